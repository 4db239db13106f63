import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { startShop, type TestShop } from './support/harness'
import { shopping } from './support/shopping'
import { createProduct, createRegion } from './support/fixtures'
import { orders } from '../src/modules/orders/schema'
import { jobs } from '../src/modules/jobs/schema'

let s: TestShop
let shop: ReturnType<typeof shopping>
beforeAll(async () => {
  s = await startShop()
  shop = shopping(s)
})
afterAll(() => s.close())

const add = (token: string, product_id: string, quantity: number) => s.request('POST', '/v1/cart/items', { token, body: { product_id, quantity } })
/** The answer's text as sent: JSON.parse would round an integer past 2^53. */
const rawCart = async (token: string) => (await fetch(`${s.url}/v1/cart`, { headers: { authorization: `Bearer ${token}` } })).text()

describe('exact amounts', () => {
  test('failure 5: 999 × ten near-cap products: checkout answers 422 order_too_large, nothing is written, the cart is kept exact, every order still reads', async () => {
    const admin = await s.admin()
    const region = await createRegion(s.database, { taxBps: 1000 })
    const u = await s.createUser()
    const ids: string[] = []
    for (let i = 0; i < 10; i++) {
      // Through the API: the admin may price this close to the catalog's cap.
      const res = await s.request('POST', '/v1/products', {
        token: admin.token,
        body: { type: 'generic', sku: `NEAR-CAP-${i}`, title: 'Near cap', price: 999_999_999_999 - i, region_id: region.id, stock: 1000, attributes: {} },
      })
      expect(res.status).toBe(201)
      ids.push(res.body.id)
      expect((await add(u.token, res.body.id, 999)).status).toBe(200)
    }
    // Σ 999 × (999 999 999 999 − i) = 9 989 999 999 945 055 (floating point said …056); 10 % tax rounds half up.
    const cart = await rawCart(u.token)
    expect(cart).toContain('"subtotal":9989999999945055,"tax":998999999994506,"total":10988999999939561')
    const jobsBefore = (await s.database.db.select().from(jobs)).length
    const res = await shop.checkout(u.token)
    expect(res.status).toBe(422)
    expect(res.body).toMatchObject({ code: 'order_too_large', max_order_total: 10_000_000_000_000 })
    // Nothing written: no order, no payment check, the stock and the cart as they were.
    expect(await s.database.db.select().from(orders).where(eq(orders.userId, u.id))).toEqual([])
    expect((await s.database.db.select().from(jobs)).length).toBe(jobsBefore)
    for (const id of ids) expect(await shop.stockOf(id)).toBe(1000)
    expect(await rawCart(u.token)).toBe(cart)
    // Every order still reads, one by one and in the admin's list.
    const list = await s.request('GET', '/v1/orders?limit=100', { token: admin.token })
    expect(list.status).toBe(200)
    for (const order of list.body.data) expect((await s.request('GET', `/v1/orders/${order.id}`, { token: admin.token })).status).toBe(200)
  })

  test('an order just under the bound is exact to the unit, and reads back as placed', async () => {
    const region = await createRegion(s.database, { taxBps: 1000 })
    const p = await createProduct(s.database, region.id, 100, { price: 999_999_999_999 })
    const u = await s.createUser()
    expect((await add(u.token, p.id, 9)).status).toBe(200)
    const res = await shop.checkout(u.token)
    expect(res.status).toBe(201)
    // 9 × 999 999 999 999 = 8 999 999 999 991; 10 % = 899 999 999 999.1 → …999.
    expect(res.body).toMatchObject({ subtotal: 8_999_999_999_991, tax: 899_999_999_999, order_total: 9_899_999_999_990 })
    expect((await s.request('GET', `/v1/orders/${res.body.id}`, { token: u.token })).body).toEqual(res.body)
    const admin = await s.admin()
    expect((await s.request('GET', `/v1/orders?user_id=${u.id}`, { token: admin.token })).body.data).toEqual([res.body])
  })

  test('an order_total of exactly 10^13 is taken; one minor unit more is 422 and the cart is kept', async () => {
    const untaxed = await createRegion(s.database, { taxBps: 0 })
    const cap = await createProduct(s.database, untaxed.id, 100, { price: 1_000_000_000_000 })
    const cent = await createProduct(s.database, untaxed.id, 100, { price: 1 })
    const exact = await s.createUser()
    await add(exact.token, cap.id, 10)
    const taken = await shop.checkout(exact.token)
    expect(taken.status).toBe(201)
    expect(taken.body.order_total).toBe(10_000_000_000_000)
    const over = await s.createUser()
    await add(over.token, cap.id, 10)
    await add(over.token, cent.id, 1)
    const refused = await shop.checkout(over.token)
    expect(refused.status).toBe(422)
    expect(refused.body.code).toBe('order_too_large')
    expect((await s.request('GET', '/v1/cart', { token: over.token })).body).toMatchObject({ total: 10_000_000_000_001, items: [{ quantity: 10 }, { quantity: 1 }] })
    expect(await shop.stockOf(cap.id)).toBe(90)
  })

  test('a cart holds 100 lines: the 101st answers 422 order_too_large; the lines already there still change', async () => {
    const region = await createRegion(s.database, { taxBps: 1000 })
    const products = await Promise.all(Array.from({ length: 101 }, () => createProduct(s.database, region.id, 10, { price: 100 })))
    const u = await s.createUser()
    for (const p of products.slice(0, 100)) expect((await add(u.token, p.id, 1)).status).toBe(200)
    const res = await add(u.token, products[100]!.id, 1)
    expect(res.status).toBe(422)
    expect(res.body).toMatchObject({ code: 'order_too_large', max_lines: 100 })
    const more = await add(u.token, products[0]!.id, 2)
    expect(more.status).toBe(200)
    expect(more.body.items).toHaveLength(100)
    expect(more.body).toMatchObject({ subtotal: 10_200, tax: 1020, total: 11_220 })
  })
})

test('the OpenAPI document names order_too_large where it is answered, and cart amounts stay integers', async () => {
  const doc = (await s.request('GET', '/swagger/json')).body
  expect(doc.paths['/v1/cart/items'].post.responses['422'].description).toContain('order_too_large')
  expect(doc.paths['/v1/orders'].post.responses['422'].description).toContain('order_too_large')
  expect(doc.paths['/v1/orders'].post.responses['503'].description).toContain('service_unavailable')
  const cart = doc.paths['/v1/cart'].get.responses['200'].content['application/json'].schema
  expect(JSON.stringify(cart)).toContain('"total":{"type":"integer"}')
})
