// Single-line text fields refuse control characters (422 naming the field); descriptions
// take newline and tab, nothing else of the kind. A NUL in customer_name was stored cut.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startShop, type TestShop } from './support/harness'
import { createProduct, createRegion } from './support/fixtures'
import { address, shopping } from './support/shopping'

let s: TestShop
let admin: { token: string }
let regionId: string
beforeAll(async () => {
  s = await startShop()
  admin = await s.admin()
  regionId = (await createRegion(s.database)).id
})
afterAll(() => s.close())

// NUL, bell, escape, DEL, a C1 control (NEL), newline and tab: none belongs in one line.
const CONTROLS = ['\u0000', '\u0007', '\u001b', '\u007f', '\u0085', '\n', '\t', '\r']

const product = (more: Record<string, unknown> = {}) => ({
  type: 'book',
  region_id: regionId,
  title: 'Designing Data-Intensive Applications',
  price: 24990,
  attributes: { isbn: '978-1-4493-7332-0', author: 'Martin Kleppmann', publisher: "O'Reilly Media" },
  ...more,
})

test('every single-line field a client writes refuses each control character, naming the field', async () => {
  const customer = await s.createUser()
  const { order } = await shopping(s).placedOrder()
  const p = await createProduct(s.database, regionId, 5)
  const cases: [string, (bad: string) => Promise<{ status: number; body: any }>][] = [
    ['name', (bad) => s.request('PATCH', '/v1/me', { token: customer.token, body: { name: `Ana${bad}Maria` } })],
    ['address.line1', (bad) => s.request('PATCH', '/v1/me', { token: customer.token, body: { address: { ...address, line1: `Rua${bad} 1` } } })],
    ['address.city', (bad) => s.request('PATCH', '/v1/me', { token: customer.token, body: { address: { ...address, city: `São${bad}Paulo` } } })],
    ['title', (bad) => s.request('POST', '/v1/regions', { token: admin.token, body: { title: `Bra${bad}zil`, country: 'BR', currency: 'BRL', tax: 0 } })],
    ['name', (bad) => s.request('POST', '/v1/categories', { token: admin.token, body: { name: `Tech${bad}` } })],
    ['title', (bad) => s.request('POST', '/v1/products', { token: admin.token, body: product({ title: `DDIA${bad}` }) })],
    ['attributes.author', (bad) => s.request('POST', '/v1/products', { token: admin.token, body: product({ attributes: { isbn: '978-1-4493-7332-0', author: `M${bad}K`, publisher: 'x' } }) })],
    ['supplier', (bad) => s.request('POST', '/v1/purchases', { token: admin.token, body: { supplier: `ACME${bad}`, items: [{ product_id: p.id, quantity: 1, unit_cost: 1 }] } })],
    ['reason', (bad) => s.request('POST', `/v1/products/${p.id}/stock`, { token: admin.token, body: { delta: 1, reason: `count${bad}` } })],
    ['customer_name', (bad) => s.request('POST', '/v1/orders', { token: customer.token, body: { customer_name: `Ana${bad}Maria` } })],
    ['shipping_address.line1', (bad) => s.request('PATCH', `/v1/orders/${order.id}`, { token: customer.token, body: { shipping_address: { ...address, line1: `Rua${bad}` } } })],
  ]
  for (const [field, send] of cases) {
    for (const bad of CONTROLS) {
      const res = await send(bad)
      expect({ field, bad, status: res.status }).toEqual({ field, bad, status: 422 })
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field)
    }
  }
})

test('a checkout customer_name with a NUL is refused, never stored cut at it', async () => {
  const { product, customerWithCart } = shopping(s)
  const p = await product(5)
  const u = await customerWithCart([{ id: p.id, quantity: 1 }])
  const res = await s.request('POST', '/v1/orders', { token: u.token, body: { shipping_address: address, customer_name: 'Ana\u0000 (admin)' } })
  expect(res.status).toBe(422)
  expect(res.body.errors[0].field).toBe('customer_name')
  // The cart is untouched: the right name goes through.
  const ok = await s.request('POST', '/v1/orders', { token: u.token, body: { shipping_address: address, customer_name: 'Ana Maria 🙂' } })
  expect(ok.status).toBe(201)
  expect(ok.body.customer_name).toBe('Ana Maria 🙂')
})

test('a description keeps newlines and tabs and refuses every other control character', async () => {
  const kept = await s.request('POST', '/v1/products', { token: admin.token, body: product({ description: 'Part I\n\tFoundations\nPart II' }) })
  expect(kept.status).toBe(201)
  expect(kept.body.description).toBe('Part I\n\tFoundations\nPart II')
  for (const bad of ['\u0000', '\r', '\u0007', '\u001b', '\u0085']) {
    const res = await s.request('POST', '/v1/products', { token: admin.token, body: product({ description: `a${bad}b` }) })
    expect(res.status).toBe(422)
    expect(res.body.errors[0].field).toBe('description')
  }
})

test('a refund reason, multi-line too, keeps newlines and refuses other control characters', async () => {
  const refund = (reason: string) => s.request('POST', '/v1/orders/01a00000-0000-7000-8000-000000000000/refund', { token: admin.token, body: { reason } })
  for (const bad of ['\u0000', '\r', '\u001b']) {
    const res = await refund(`damaged${bad}box`)
    expect(res.status).toBe(422)
    expect(res.body.errors[0].field).toBe('reason')
  }
  // Past validation: no such order.
  expect((await refund('damaged box\n\tsecond line')).status).toBe(404)
})

test('blank names are still refused; other Unicode is kept as sent', async () => {
  const u = await s.createUser()
  expect((await s.request('PATCH', '/v1/me', { token: u.token, body: { name: '   ' } })).status).toBe(422)
  const res = await s.request('PATCH', '/v1/me', { token: u.token, body: { name: ' Zoë Ñandú 李 ' } })
  expect(res.status).toBe(200)
  expect(res.body.name).toBe('Zoë Ñandú 李')
})
