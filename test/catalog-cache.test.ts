import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startShop, type TestShop } from './support/harness'
import { createProduct, createRegion } from './support/fixtures'
import { TtlCache } from '../src/lib/ttl-cache'
import { isbn13 } from '../bench/lib/shop'

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

describe('the cache changes when a page is read, never what it holds', () => {
  let cached: TestShop
  let uncached: TestShop
  beforeAll(async () => {
    cached = await startShop({ env: { CATALOG_CACHE_MS: '60000' } })
    uncached = await startShop({ databaseUrl: cached.config.DATABASE_URL, env: { CATALOG_CACHE_MS: '0' } })
  })
  afterAll(async () => {
    await uncached.close()
    await cached.close()
  })

  test('every filter shape, page by page: the same bytes with the cache on (a miss, then a hit) and off', async () => {
    const admin = await cached.admin()
    const regionId = (await createRegion(cached.database)).id
    const post = async (path: string, body: object) => {
      const res = await cached.request('POST', path, { token: admin.token, body })
      expect(res.status, JSON.stringify(res.body)).toBe(201)
      return res.body
    }
    const category = await post('/v1/categories', { name: `Both ${regionId}` })
    for (let i = 0; i < 7; i++) {
      const book = i % 2 === 0
      await post('/v1/products', {
        type: book ? 'book' : 'generic',
        region_id: regionId,
        sku: `BOTH-${i}`,
        title: `Bothword ${book ? 'novel' : 'gadget'} ${i}`,
        price: 100 * (i % 3),
        stock: i % 3 === 0 ? 0 : i,
        category_ids: i % 2 ? [category.id] : [],
        attributes: book ? { isbn: isbn13(900 + i), author: 'Ana Both', publisher: 'Both Press' } : { n: i },
      })
    }
    const filters = ['type=book', `category_id=${category.id}`, 'q=bothword', 'min_price=100', 'max_price=100', 'in_stock=true']
    const text = async (shop: TestShop, path: string) => {
      const res = await fetch(shop.url + path)
      expect(res.status).toBe(200)
      return res.text()
    }
    for (let shape = 0; shape < 1 << filters.length; shape++) {
      // Pinned to this test's products by the region, so the other tests' products stay out.
      const query = [`region_id=${regionId}`, ...filters.filter((_, i) => shape & (1 << i))].join('&')
      let cursor: string | null = null
      do {
        const path: string = `/v1/products?${query}&limit=2${cursor ? `&cursor=${cursor}` : ''}`
        const miss = await text(cached, path)
        const hit = await text(cached, path)
        const live: string = await text(uncached, path)
        expect(hit).toBe(miss)
        expect(live).toBe(miss)
        cursor = JSON.parse(live).next_cursor
      } while (cursor)
    }
  })
})
