import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startShop, type TestShop } from './support/harness'
import { createProduct, createRegion } from './support/fixtures'
import { products } from '../src/modules/catalog/schema'
import { eq } from 'drizzle-orm'

let s: TestShop
let region: Awaited<ReturnType<typeof createRegion>>
beforeAll(async () => {
  s = await startShop()
  region = await createRegion(s.database, { taxBps: 1000 })
})
afterAll(() => s.close())

const add = (token: string, product_id: string, quantity: number) => s.request('POST', '/v1/cart/items', { token, body: { product_id, quantity } })

describe('cart', () => {
  test('an empty cart', async () => {
    const u = await s.createUser()
    const res = await s.request('GET', '/v1/cart', { token: u.token })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ items: [], subtotal: 0, tax: 0, total: 0, currency: null, region_id: null })
  })

  test('adding adds to the line; totals use the region tax, rounded half up once on the subtotal', async () => {
    const u = await s.createUser()
    const a = await createProduct(s.database, region.id, 10, { price: 1005, title: 'A' })
    const b = await createProduct(s.database, region.id, 10, { price: 250, title: 'B' })
    await add(u.token, a.id, 1)
    await add(u.token, b.id, 1)
    const res = await add(u.token, a.id, 2)
    expect(res.status).toBe(200)
    // 3 × 1005 + 250 = 3265; 10 % is 326.5 → 327.
    expect(res.body).toEqual({
      items: [
        { product_id: a.id, title: 'A', unit_price: 1005, quantity: 3, line_total: 3015, available: 10 },
        { product_id: b.id, title: 'B', unit_price: 250, quantity: 1, line_total: 250, available: 10 },
      ],
      subtotal: 3265,
      tax: 327,
      total: 3592,
      currency: 'BRL',
      region_id: region.id,
    })
    expect((await s.request('GET', '/v1/cart', { token: u.token })).body).toEqual(res.body)
  })

  test('409 insufficient_stock when the line would exceed the stock; the line stays as it was', async () => {
    const u = await s.createUser()
    const p = await createProduct(s.database, region.id, 3)
    await add(u.token, p.id, 2)
    const res = await add(u.token, p.id, 2)
    expect(res.status).toBe(409)
    expect(res.body).toMatchObject({ code: 'insufficient_stock', errors: [{ product_id: p.id, requested: 4, available: 3 }] })
    expect((await s.request('GET', '/v1/cart', { token: u.token })).body.items[0].quantity).toBe(2)
    const patch = await s.request('PATCH', `/v1/cart/items/${p.id}`, { token: u.token, body: { quantity: 4 } })
    expect(patch.status).toBe(409)
    expect(patch.body.code).toBe('insufficient_stock')
  })

  test('409 region_mismatch for a product of another region', async () => {
    const u = await s.createUser()
    const other = await createRegion(s.database, { title: 'US', country: 'US', currency: 'USD' })
    await add(u.token, (await createProduct(s.database, region.id, 5)).id, 1)
    const res = await add(u.token, (await createProduct(s.database, other.id, 5)).id, 1)
    expect(res.status).toBe(409)
    expect(res.body.code).toBe('region_mismatch')
    expect((await s.request('GET', '/v1/cart', { token: u.token })).body.items).toHaveLength(1)
  })

  test('404 for an unknown or deleted product', async () => {
    const u = await s.createUser()
    expect((await add(u.token, 'no-such-product', 1)).status).toBe(404)
    const p = await createProduct(s.database, region.id, 5)
    await s.database.write((tx) => tx.update(products).set({ deletedAt: new Date().toISOString() }).where(eq(products.id, p.id)))
    const res = await add(u.token, p.id, 1)
    expect(res.status).toBe(404)
    expect(res.body.code).toBe('not_found')
  })

  test('a product deleted after it was added shows 0 available', async () => {
    const u = await s.createUser()
    const p = await createProduct(s.database, region.id, 5)
    await add(u.token, p.id, 1)
    await s.database.write((tx) => tx.update(products).set({ deletedAt: new Date().toISOString() }).where(eq(products.id, p.id)))
    expect((await s.request('GET', '/v1/cart', { token: u.token })).body.items[0].available).toBe(0)
  })

  test('PATCH sets the quantity, DELETE of a line answers the cart, DELETE of the cart 204', async () => {
    const u = await s.createUser()
    const a = await createProduct(s.database, region.id, 5)
    const b = await createProduct(s.database, region.id, 5)
    await add(u.token, a.id, 1)
    await add(u.token, b.id, 1)
    const patched = await s.request('PATCH', `/v1/cart/items/${a.id}`, { token: u.token, body: { quantity: 5 } })
    expect(patched.status).toBe(200)
    expect(patched.body.items[0]).toMatchObject({ product_id: a.id, quantity: 5 })
    const removed = await s.request('DELETE', `/v1/cart/items/${a.id}`, { token: u.token })
    expect(removed.status).toBe(200)
    expect(removed.body.items.map((i: { product_id: string }) => i.product_id)).toEqual([b.id])
    expect((await s.request('DELETE', `/v1/cart/items/${a.id}`, { token: u.token })).status).toBe(404)
    expect((await s.request('PATCH', `/v1/cart/items/${a.id}`, { token: u.token, body: { quantity: 1 } })).status).toBe(404)
    expect((await s.request('DELETE', '/v1/cart', { token: u.token })).status).toBe(204)
    expect((await s.request('GET', '/v1/cart', { token: u.token })).body.items).toEqual([])
  })

  test('422 for a bad quantity or unknown fields; 401 without a token; 403 without the customer role', async () => {
    const u = await s.createUser()
    const p = await createProduct(s.database, region.id, 5)
    for (const body of [{ product_id: p.id, quantity: 0 }, { product_id: p.id, quantity: 1.5 }, { product_id: p.id }, { product_id: p.id, quantity: 1, price: 1 }]) {
      const res = await s.request('POST', '/v1/cart/items', { token: u.token, body })
      expect(res.status).toBe(422)
      expect(res.body.code).toBe('validation_failed')
    }
    expect((await s.request('GET', '/v1/cart')).status).toBe(401)
    const adminOnly = await s.createUser(['admin'])
    expect((await s.request('GET', '/v1/cart', { token: adminOnly.token })).status).toBe(403)
  })

  test('adds sent at once are written together, each answered alone; one customer’s adds still add up', async () => {
    const other = await createRegion(s.database, { title: 'CA', country: 'CA', currency: 'CAD' })
    const p = await createProduct(s.database, region.id, 50)
    const scarce = await createProduct(s.database, region.id, 1)
    const foreign = await createProduct(s.database, other.id, 5)
    const [repeat, lost, mismatched, greedy, ...plain] = await Promise.all(Array.from({ length: 12 }, () => s.createUser()))
    await add(mismatched!.token, foreign.id, 1)
    const answers = await Promise.all([
      ...[1, 2, 3].map((n) => add(repeat!.token, p.id, n)),
      add(lost!.token, 'no-such-product', 1),
      add(mismatched!.token, p.id, 1),
      add(greedy!.token, scarce.id, 2),
      ...plain.map((u) => add(u.token, p.id, 2)),
    ])
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 404, 409, 409, ...plain.map(() => 200)])
    expect(answers[4]!.body.code).toBe('region_mismatch')
    expect(answers[5]!.body).toMatchObject({ code: 'insufficient_stock', errors: [{ product_id: scarce.id, requested: 2, available: 1 }] })
    // Each of one customer's adds saw the ones before it: the last answer holds all 6.
    expect(
      answers
        .slice(0, 3)
        .map((r) => r.body.items[0].quantity)
        .sort(),
    ).toEqual([1, 3, 6])
    const cart = async (token: string) => (await s.request('GET', '/v1/cart', { token })).body.items.map((i: { product_id: string; quantity: number }) => [i.product_id, i.quantity])
    expect(await cart(repeat!.token)).toEqual([[p.id, 6]])
    expect(await cart(lost!.token)).toEqual([])
    expect(await cart(mismatched!.token)).toEqual([[foreign.id, 1]])
    expect(await cart(greedy!.token)).toEqual([])
    for (const [i, u] of plain.entries()) {
      expect(answers[6 + i]!.body.items).toEqual([expect.objectContaining({ product_id: p.id, quantity: 2, available: 50 })])
      expect(await cart(u.token)).toEqual([[p.id, 2]])
    }
  })

  test('carts are per customer', async () => {
    const [a, b] = [await s.createUser(), await s.createUser()]
    await add(a.token, (await createProduct(s.database, region.id, 5)).id, 1)
    expect((await s.request('GET', '/v1/cart', { token: b.token })).body.items).toEqual([])
  })
})
