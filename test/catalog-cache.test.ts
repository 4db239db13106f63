import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startShop, type TestShop } from './support/harness'
import { createProduct, createRegion } from './support/fixtures'
import { TtlCache } from '../src/lib/ttl-cache'

describe('TtlCache', () => {
  test('serves within the TTL, reloads after it, shares one in-flight load, drops failures', async () => {
    let now = 0
    const cache = new TtlCache<number>(100, 10, () => now)
    let loads = 0
    const load = async () => ++loads
    expect(await Promise.all([cache.get('k', load), cache.get('k', load)])).toEqual([1, 1])
    now = 99
    expect(await cache.get('k', load)).toBe(1)
    now = 100
    expect(await cache.get('k', load)).toBe(2)
    await expect(cache.get('bad', () => Promise.reject(new Error('x')))).rejects.toThrow()
    expect(await cache.get('bad', load)).toBe(3)
  })

  test('keeps at most maxEntries, evicting the oldest', async () => {
    const cache = new TtlCache<string>(1000, 2, () => 0)
    for (const key of ['a', 'b', 'c']) await cache.get(key, async () => key)
    let reloaded = false
    await cache.get('a', async () => ((reloaded = true), 'a'))
    expect(reloaded).toBe(true)
  })
})

describe('catalog read cache', () => {
  let s: TestShop
  beforeAll(async () => {
    s = await startShop({ env: { CATALOG_CACHE_MS: '60000' } })
  })
  afterAll(() => s.close())

  test('public reads come from memory; an admin change is visible at once', async () => {
    const admin = await s.admin()
    const region = await createRegion(s.database)
    const product = await createProduct(s.database, region.id, 5, { title: 'Cached lamp' })
    const first = await s.request('GET', `/v1/products?region_id=${region.id}`)
    expect(first.body.data.map((p: { title: string }) => p.title)).toEqual(['Cached lamp'])
    // A write behind the service's back (another instance) is not seen until the TTL passes…
    await createProduct(s.database, region.id, 1, { title: 'Hidden' })
    expect((await s.request('GET', `/v1/products?region_id=${region.id}`)).body.data).toHaveLength(1)
    // …but this instance's own admin write clears the cache.
    const patched = await s.request('PATCH', `/v1/products/${product.id}`, { token: admin.token, body: { title: 'Renamed lamp' } })
    expect(patched.status).toBe(200)
    const after = await s.request('GET', `/v1/products?region_id=${region.id}`)
    expect(after.body.data.map((p: { title: string }) => p.title).sort()).toEqual(['Hidden', 'Renamed lamp'])
    expect((await s.request('GET', `/v1/products/${product.id}`)).body.title).toBe('Renamed lamp')
  })

  test("an admin's stock adjustment or purchase is visible at once", async () => {
    const admin = await s.admin()
    const region = await createRegion(s.database)
    const product = await createProduct(s.database, region.id, 5)
    expect((await s.request('GET', `/v1/products/${product.id}`)).body.stock).toBe(5)
    expect((await s.request('POST', `/v1/products/${product.id}/stock`, { token: admin.token, body: { delta: -1, reason: 'damaged' } })).status).toBe(200)
    expect((await s.request('GET', `/v1/products/${product.id}`)).body.stock).toBe(4)
    const purchase = { supplier: 'Acme', items: [{ product_id: product.id, quantity: 3, unit_cost: 100 }] }
    expect((await s.request('POST', '/v1/purchases', { token: admin.token, body: purchase })).status).toBe(201)
    expect((await s.request('GET', `/v1/products?region_id=${region.id}`)).body.data[0].stock).toBe(7)
  })
})
