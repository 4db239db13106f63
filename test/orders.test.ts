import { describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { useShop, type TestShop } from './support/harness'
import { address, shopping } from './support/shopping'
import { orders } from '../src/modules/orders/schema'
import { idempotencyKeys } from '../src/modules/idempotency/schema'
import { products, stockMovements } from '../src/modules/catalog/schema'
import { ManualClock } from '../src/lib/clock'

let s: TestShop
let shop: ReturnType<typeof shopping>
const clock = new ManualClock(Date.now())
useShop((started) => ({ s, shop } = { s: started, shop: shopping(started) }), { clock })

describe('checkout POST /v1/orders', () => {
  test('201 the order from the cart: prices snapshotted, tax on the subtotal, stock taken with ledger rows, cart emptied', async () => {
    const a = await shop.product(5, 1999)
    const b = await shop.product(5, 500)
    // b first: the cart's order, not the ids', is the order's.
    const u = await shop.customerWithCart([{ id: b.id, quantity: 1 }])
    clock.advance(1000)
    await s.request('POST', '/v1/cart/items', { token: u.token, body: { product_id: a.id, quantity: 2 } })
    const res = await shop.checkout(u.token, {}, { shipping_address: address, customer_name: 'Ana Souza' })
    expect(res.status).toBe(201)
    expect(res.body).toEqual({
      id: expect.any(String),
      user_id: u.id,
      status: 'pending_payment',
      source: 'cart',
      customer_name: 'Ana Souza',
      shipping_address: address,
      items: expect.arrayContaining([
        { product_id: a.id, title: 'Thing', sku: a.sku, unit_price: 1999, quantity: 2, line_total: 3998 },
        { product_id: b.id, title: 'Thing', sku: b.sku, unit_price: 500, quantity: 1, line_total: 500 },
      ]),
      subtotal: 4498,
      tax: 450,
      order_total: 4948,
      currency: 'BRL',
      created_at: expect.any(String),
      paid_at: null,
      payment_due_at: expect.any(String),
      timeline: [{ status: 'pending_payment', at: res.body.created_at }],
    })
    expect(Date.parse(res.body.payment_due_at) - Date.parse(res.body.created_at)).toBe(s.config.PAYMENT_CHECK_DELAY_MS)
    // The answer is built from what was written: a later read must give exactly the same order.
    expect((await s.request('GET', `/v1/orders/${res.body.id}`, { token: u.token })).body).toEqual(res.body)
    expect(res.body.items.map((item: { product_id: string }) => item.product_id)).toEqual([b.id, a.id])
    expect(await shop.stockOf(a.id)).toBe(3)
    expect(await shop.ledgerSum(a.id)).toBe(3)
    const sale = await s.database.db.select().from(stockMovements).where(eq(stockMovements.ref, res.body.id))
    expect(sale.map((m) => [m.productId, m.delta, m.reason]).sort()).toEqual(
      [
        [a.id, -2, 'sale'],
        [b.id, -1, 'sale'],
      ].sort(),
    )
    expect((await s.request('GET', '/v1/cart', { token: u.token })).body.items).toEqual([])
    // A later price change does not touch the order.
    await s.database.write((tx) => tx.update(products).set({ price: 1 }).where(eq(products.id, a.id)))
    const again = await s.request('GET', `/v1/orders/${res.body.id}`, { token: u.token })
    expect(again.body).toEqual(res.body)
  })

  test('defaults: customer_name and shipping_address from the profile; 422 when neither has an address', async () => {
    const u = await s.register('Bia Lima')
    const p = await shop.product(5)
    await s.request('POST', '/v1/cart/items', { token: u.token, body: { product_id: p.id, quantity: 1 } })
    const none = await shop.checkout(u.token, {}, {})
    expect(none.status).toBe(422)
    expect(none.body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'shipping_address' }] })
    expect(await shop.stockOf(p.id)).toBe(5)
    await s.request('PATCH', '/v1/me', { token: u.token, body: { address } })
    const res = await shop.checkout(u.token, {}, {})
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ customer_name: 'Bia Lima', shipping_address: address })
  })

  test('422 for an empty cart and for unknown fields (no status, no prices)', async () => {
    const u = await s.createUser()
    const empty = await shop.checkout(u.token)
    expect(empty.status).toBe(422)
    expect(empty.body.errors).toEqual([{ field: 'cart', message: 'The cart is empty' }])
    for (const body of [{ status: 'paid' }, { subtotal: 1 }, { shipping_address: { ...address, country: 'Brazil' } }]) {
      expect((await shop.checkout(u.token, {}, body)).status).toBe(422)
    }
  })

  test('409 out_of_stock names every short line; nothing is taken and the cart is kept', async () => {
    const plenty = await shop.product(10)
    const short1 = await shop.product(5)
    const short2 = await shop.product(5)
    const u = await shop.customerWithCart([
      { id: plenty.id, quantity: 2 },
      { id: short1.id, quantity: 4 },
      { id: short2.id, quantity: 5 },
    ])
    const rival = await shop.customerWithCart([
      { id: short1.id, quantity: 3 },
      { id: short2.id, quantity: 1 },
    ])
    expect((await shop.checkout(rival.token)).status).toBe(201)
    const res = await shop.checkout(u.token)
    expect(res.status).toBe(409)
    expect(res.body.code).toBe('out_of_stock')
    expect(res.body.errors).toEqual([
      { product_id: short1.id, requested: 4, available: 2 },
      { product_id: short2.id, requested: 5, available: 4 },
    ])
    expect(await shop.stockOf(plenty.id)).toBe(10)
    expect(await shop.ledgerSum(plenty.id)).toBe(10)
    expect((await s.request('GET', '/v1/cart', { token: u.token })).body.items).toHaveLength(3)
  })

  test('100 customers racing for a stock of 10: exactly 10 orders, stock 0, the ledger sums to it', async () => {
    const p = await shop.product(10)
    const customers = await Promise.all(Array.from({ length: 100 }, () => shop.customerWithCart([])))
    for (const c of customers) await s.request('POST', '/v1/cart/items', { token: c.token, body: { product_id: p.id, quantity: 1 } })
    const results = await Promise.all(customers.map((c) => shop.checkout(c.token)))
    const statuses = results.map((r) => r.status)
    expect(statuses.filter((x) => x === 201)).toHaveLength(10)
    expect(statuses.filter((x) => x === 409)).toHaveLength(90)
    expect(results.filter((r) => r.status === 409).every((r) => r.body.code === 'out_of_stock')).toBe(true)
    expect(await shop.stockOf(p.id)).toBe(0)
    expect(await shop.ledgerSum(p.id)).toBe(0)
    const sales = await s.database.db.select().from(stockMovements).where(eq(stockMovements.productId, p.id))
    expect(sales.filter((m) => m.reason === 'sale')).toHaveLength(10)
  })
})

describe('Idempotency-Key on POST /v1/orders', () => {
  test('20 concurrent retries with one key create one order and all get it', async () => {
    const p = await shop.product(50)
    const u = await shop.customerWithCart([{ id: p.id, quantity: 2 }])
    const results = await Promise.all(Array.from({ length: 20 }, () => shop.checkout(u.token, { 'idempotency-key': 'checkout-1' })))
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201))
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1)
    expect(await s.database.db.select().from(orders).where(eq(orders.userId, u.id))).toHaveLength(1)
    expect(await shop.stockOf(p.id)).toBe(48)
  })

  test('the same key with another body answers 409 conflict; keys are per user', async () => {
    const p = await shop.product(50)
    const u = await shop.customerWithCart([{ id: p.id, quantity: 1 }])
    const first = await shop.checkout(u.token, { 'idempotency-key': 'k' })
    expect(first.status).toBe(201)
    const other = await shop.checkout(u.token, { 'idempotency-key': 'k' }, { shipping_address: { ...address, line1: 'Rua B, 2' } })
    expect(other.status).toBe(409)
    expect(other.body.code).toBe('conflict')
    // Same key, another customer: their own request.
    const v = await shop.customerWithCart([{ id: p.id, quantity: 1 }])
    const theirs = await shop.checkout(v.token, { 'idempotency-key': 'k' })
    expect(theirs.status).toBe(201)
    expect(theirs.body.id).not.toBe(first.body.id)
  })

  test('a key expires after 24 h: then it names a new request', async () => {
    const p = await shop.product(50)
    const u = await shop.customerWithCart([{ id: p.id, quantity: 1 }])
    const first = await shop.checkout(u.token, { 'idempotency-key': 'daily' })
    await s.request('POST', '/v1/cart/items', { token: u.token, body: { product_id: p.id, quantity: 1 } })
    clock.advance(24 * 3600_000 - 1)
    expect((await shop.checkout(u.token, { 'idempotency-key': 'daily' })).body.id).toBe(first.body.id)
    clock.advance(1)
    const later = await shop.checkout(u.token, { 'idempotency-key': 'daily' })
    expect(later.status).toBe(201)
    expect(later.body.id).not.toBe(first.body.id)
  })

  test('the sweep deletes expired keys and keeps live ones', async () => {
    const p = await shop.product(50)
    const u = await shop.customerWithCart([{ id: p.id, quantity: 1 }])
    await shop.checkout(u.token, { 'idempotency-key': 'old' })
    clock.advance(12 * 3600_000)
    await s.request('POST', '/v1/cart/items', { token: u.token, body: { product_id: p.id, quantity: 1 } })
    await shop.checkout(u.token, { 'idempotency-key': 'new' })
    clock.advance(12 * 3600_000)
    expect(await s.shop.services.idempotencySweeper.sweep()).toBeGreaterThanOrEqual(1)
    const left = await s.database.db.select({ key: idempotencyKeys.key }).from(idempotencyKeys).where(eq(idempotencyKeys.userId, u.id))
    expect(left).toEqual([{ key: 'new' }])
  })

  test('a failed attempt stores nothing: the retry with the same key acts once stock is there', async () => {
    const p = await shop.product(1)
    const u = await shop.customerWithCart([{ id: p.id, quantity: 1 }])
    await s.request('PATCH', `/v1/cart/items/${p.id}`, { token: u.token, body: { quantity: 1 } })
    const rival = await shop.customerWithCart([{ id: p.id, quantity: 1 }])
    expect((await shop.checkout(rival.token)).status).toBe(201)
    expect((await shop.checkout(u.token, { 'idempotency-key': 'retry-me' })).status).toBe(409)
    await s.request('DELETE', `/v1/orders/${(await s.request('GET', '/v1/orders', { token: rival.token })).body.data[0].id}`, { token: rival.token })
    const retried = await shop.checkout(u.token, { 'idempotency-key': 'retry-me' })
    expect(retried.status).toBe(201)
  })

  test('422 for a key over 255 characters', async () => {
    const u = await s.createUser()
    expect((await shop.checkout(u.token, { 'idempotency-key': 'x'.repeat(256) })).status).toBe(422)
  })
})

const placed = (quantity = 1, stock = 10) => shop.placedOrder({ quantity, stock })

describe('reading orders', () => {
  test('a customer lists their own, newest first, with cursor pages and a status filter', async () => {
    const p = await shop.product(20)
    const u = await shop.customerWithCart([])
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      await s.request('POST', '/v1/cart/items', { token: u.token, body: { product_id: p.id, quantity: 1 } })
      ids.push((await shop.checkout(u.token)).body.id)
    }
    await s.request('DELETE', `/v1/orders/${ids[0]}`, { token: u.token })
    const first = await s.request('GET', '/v1/orders?limit=2', { token: u.token })
    expect(first.status).toBe(200)
    expect(first.body.data.map((o: { id: string }) => o.id)).toEqual([ids[2], ids[1]])
    const second = await s.request('GET', `/v1/orders?limit=2&cursor=${first.body.next_cursor}`, { token: u.token })
    expect(second.body).toMatchObject({ data: [{ id: ids[0], status: 'cancelled' }], next_cursor: null })
    const pending = await s.request('GET', '/v1/orders?status=pending_payment', { token: u.token })
    expect(pending.body.data.map((o: { id: string }) => o.id)).toEqual([ids[2], ids[1]])
    // user_id is an admin filter: a customer still sees only their own.
    const other = await placed()
    const sneaky = await s.request('GET', `/v1/orders?user_id=${other.u.id}`, { token: u.token })
    expect(sneaky.body.data.every((o: { user_id: string }) => o.user_id === u.id)).toBe(true)
  })

  test("another customer's order answers 404; an admin sees any, and filters by user_id and status", async () => {
    const { u, order } = await placed()
    const stranger = await s.createUser()
    for (const [method, path] of [
      ['GET', `/v1/orders/${order.id}`],
      ['DELETE', `/v1/orders/${order.id}`],
      ['GET', `/v1/orders/${order.id}/events`],
    ] as const) {
      const res = await s.request(method, path, { token: stranger.token })
      expect(res.status).toBe(404)
      expect(res.body.code).toBe('not_found')
    }
    expect((await s.request('PATCH', `/v1/orders/${order.id}`, { token: stranger.token, body: { shipping_address: address } })).status).toBe(404)
    const admin = await s.admin()
    expect((await s.request('GET', `/v1/orders/${order.id}`, { token: admin.token })).body.id).toBe(order.id)
    const mine = await s.request('GET', `/v1/orders?user_id=${u.id}&status=pending_payment`, { token: admin.token })
    expect(mine.body.data.map((o: { id: string }) => o.id)).toEqual([order.id])
    expect((await s.request('GET', `/v1/orders?user_id=${u.id}&status=paid`, { token: admin.token })).body.data).toEqual([])
  })

  test('401 without a token; 404 for an unknown id; 422 for a bad status filter or cursor', async () => {
    const u = await s.createUser()
    expect((await s.request('GET', '/v1/orders')).status).toBe(401)
    expect((await s.request('GET', '/v1/orders/nope', { token: u.token })).status).toBe(404)
    expect((await s.request('GET', '/v1/orders?status=lost', { token: u.token })).status).toBe(422)
    expect((await s.request('GET', '/v1/orders?cursor=garbage', { token: u.token })).status).toBe(422)
  })
})

describe('changing orders', () => {
  test('the owner changes the shipping address while it awaits payment, not after', async () => {
    const { u, order } = await placed()
    const moved = { ...address, line1: 'Rua Nova, 5' }
    const res = await s.request('PATCH', `/v1/orders/${order.id}`, { token: u.token, body: { shipping_address: moved } })
    expect(res.status).toBe(200)
    expect(res.body.shipping_address).toEqual(moved)
    await s.request('DELETE', `/v1/orders/${order.id}`, { token: u.token })
    const late = await s.request('PATCH', `/v1/orders/${order.id}`, { token: u.token, body: { shipping_address: address } })
    expect(late.status).toBe(409)
    expect(late.body.code).toBe('conflict')
  })

  test('a customer cannot set a status (403); an empty patch is 422', async () => {
    const { u, order } = await placed()
    expect((await s.request('PATCH', `/v1/orders/${order.id}`, { token: u.token, body: { status: 'shipped' } })).status).toBe(403)
    expect((await s.request('PATCH', `/v1/orders/${order.id}`, { token: u.token, body: {} })).status).toBe(422)
    expect((await s.request('PATCH', `/v1/orders/${order.id}`, { token: u.token, body: { paid_at: 'now' } })).status).toBe(422)
  })

  test('an admin walks the state machine; every move is on the timeline; other moves are 409 invalid_transition', async () => {
    const { order } = await placed()
    const admin = await s.admin()
    const set = (status: string) => s.request('PATCH', `/v1/orders/${order.id}`, { token: admin.token, body: { status } })
    // paid only comes from the gateway.
    expect((await set('paid')).body.code).toBe('invalid_transition')
    expect((await set('shipped')).body.code).toBe('invalid_transition')
    await s.database.write((tx) => tx.update(orders).set({ status: 'paid' }).where(eq(orders.id, order.id)))
    expect((await set('cancelled')).status).toBe(409)
    const shipped = await set('shipped')
    expect(shipped.status).toBe(200)
    const delivered = await set('delivered')
    expect(delivered.body.status).toBe('delivered')
    expect(delivered.body.timeline.map((e: { status: string }) => e.status)).toEqual(['pending_payment', 'shipped', 'delivered'])
    for (const status of ['shipped', 'cancelled', 'unpaid', 'pending_payment']) {
      const res = await set(status)
      expect(res.status).toBe(409)
      expect(res.body.code).toBe('invalid_transition')
    }
  })

  test('DELETE cancels an order awaiting payment and returns its stock with ledger rows; a second DELETE is 409', async () => {
    const { p, u, order } = await placed(3, 10)
    expect(await shop.stockOf(p.id)).toBe(7)
    const res = await s.request('DELETE', `/v1/orders/${order.id}`, { token: u.token })
    expect(res.status).toBe(200)
    expect(res.body.status).toBe('cancelled')
    expect(res.body.timeline.map((e: { status: string }) => e.status)).toEqual(['pending_payment', 'cancelled'])
    expect(await shop.stockOf(p.id)).toBe(10)
    expect(await shop.ledgerSum(p.id)).toBe(10)
    const returned = await s.database.db.select().from(stockMovements).where(eq(stockMovements.ref, order.id))
    expect(returned.map((m) => [m.delta, m.reason])).toEqual([
      [-3, 'sale'],
      [3, 'cancellation'],
    ])
    const again = await s.request('DELETE', `/v1/orders/${order.id}`, { token: u.token })
    expect(again.status).toBe(409)
    expect(again.body.code).toBe('invalid_transition')
    expect(await shop.stockOf(p.id)).toBe(10)
  })

  test('an admin cancels any order awaiting payment', async () => {
    const { order } = await placed()
    const admin = await s.admin()
    expect((await s.request('DELETE', `/v1/orders/${order.id}`, { token: admin.token })).body.status).toBe('cancelled')
  })

  test('20 concurrent cancels return the stock once', async () => {
    const { p, u, order } = await placed(2, 10)
    const results = await Promise.all(Array.from({ length: 20 }, () => s.request('DELETE', `/v1/orders/${order.id}`, { token: u.token })))
    expect(results.filter((r) => r.status === 200)).toHaveLength(1)
    expect(results.filter((r) => r.status === 409)).toHaveLength(19)
    expect(await shop.stockOf(p.id)).toBe(10)
    expect(await shop.ledgerSum(p.id)).toBe(10)
  })
})

describe('DELETE /v1/me', () => {
  test('keeps the orders without the name and address', async () => {
    const u = await s.register('Carla Dias')
    const p = await shop.product(5)
    await s.request('POST', '/v1/cart/items', { token: u.token, body: { product_id: p.id, quantity: 1 } })
    const order = (await shop.checkout(u.token)).body
    expect(order.customer_name).toBe('Carla Dias')
    expect((await s.request('DELETE', '/v1/me', { token: u.token, body: { password: u.password } })).status).toBe(204)
    const admin = await s.admin()
    const kept = await s.request('GET', `/v1/orders/${order.id}`, { token: admin.token })
    expect(kept.status).toBe(200)
    expect(kept.body).toMatchObject({ id: order.id, customer_name: '', shipping_address: null, order_total: order.order_total })
  })
})
