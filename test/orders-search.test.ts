import { beforeAll, describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { castOf, useShop, type Fixture, type TestShop } from './support/harness'
import { address, shopping } from './support/shopping'
import { orders } from '../src/modules/orders/schema'

let s: TestShop, admin: Fixture
useShop(async (shop) => ({ s, admin } = await castOf(shop)))

/** A registered customer's order under `name`, created at `createdAt`. */
async function orderOf(name: string, createdAt: string, more: { source?: 'flash_sale'; status?: 'cancelled' } = {}) {
  const shop = shopping(s)
  const product = await shop.product(5)
  const user = await s.register(name)
  await s.request('POST', '/v1/cart/items', { token: user.token, body: { product_id: product.id, quantity: 1 } })
  const placed = await shop.checkout(user.token, {}, { shipping_address: address, customer_name: name })
  expect(placed.status).toBe(201)
  if (more.status) await s.request('DELETE', `/v1/orders/${placed.body.id}`, { token: user.token })
  await s.database.write((tx) =>
    tx
      .update(orders)
      .set({ createdAt, ...(more.source ? { source: more.source } : {}) })
      .where(eq(orders.id, placed.body.id)),
  )
  return { id: placed.body.id as string, user }
}

const ids = async (query: string, token = admin.token) => {
  const res = await s.request('GET', `/v1/orders?limit=100&${query}`, { token })
  expect(res.status).toBe(200)
  return (res.body.data as { id: string }[]).map((o) => o.id)
}

describe('GET /v1/orders: an admin searches every order', () => {
  let ana: Awaited<ReturnType<typeof orderOf>>
  let jose: Awaited<ReturnType<typeof orderOf>>
  let bruno: Awaited<ReturnType<typeof orderOf>>
  let percent: Awaited<ReturnType<typeof orderOf>>
  beforeAll(async () => {
    ana = await orderOf('Ana Souza', '2026-11-20T10:00:00.000Z')
    jose = await orderOf('JOSÉ Álvares', '2026-11-27T00:00:00.000Z', { source: 'flash_sale' })
    bruno = await orderOf('Bruno Lima', '2026-11-28T12:30:00.000Z', { status: 'cancelled' })
    percent = await orderOf('100% Cotton Ltd', '2026-11-29T09:00:00.000Z')
  })

  test('q: part of the customer name on the order, case-insensitive (accented letters too), newest first', async () => {
    expect(await ids('q=souza')).toEqual([ana.id])
    expect(await ids('q=SOUZA')).toEqual([ana.id])
    expect(await ids('q=josé')).toEqual([jose.id])
    expect(await ids('q=álvares')).toEqual([jose.id])
    expect(await ids('q=a')).toEqual(expect.arrayContaining([bruno.id, jose.id, ana.id]))
    expect(await ids('q=nobody-has-this')).toEqual([])
  })

  test("q: part of the customer's email, case-insensitive", async () => {
    const local = ana.user.email.split('@')[0]!
    expect(await ids(`q=${encodeURIComponent(local.toUpperCase())}`)).toEqual([ana.id])
  })

  test('q is literal text: % and _ match only themselves', async () => {
    expect(await ids(`q=${encodeURIComponent('100%')}`)).toEqual([percent.id])
    expect(await ids(`q=${encodeURIComponent('%')}`)).toEqual([percent.id])
    expect(await ids('q=_')).toEqual([])
  })

  test('an erased customer is found by neither name nor email; the order stays listed', async () => {
    const gone = await orderOf('Erased Person', '2026-11-21T10:00:00.000Z')
    expect(await ids('q=erased person')).toEqual([gone.id])
    expect((await s.request('DELETE', '/v1/me', { token: gone.user.token, body: { password: gone.user.password } })).status).toBe(204)
    expect(await ids('q=erased')).toEqual([])
    expect(await ids(`q=${encodeURIComponent(gone.user.email)}`)).toEqual([])
    expect(await ids(`user_id=${gone.user.id}`)).toEqual([gone.id])
  })

  test('status, source, user_id, from (inclusive) and to (exclusive), combined', async () => {
    expect(await ids('status=cancelled&q=bruno')).toEqual([bruno.id])
    expect(await ids('source=flash_sale')).toContain(jose.id)
    expect(await ids('source=flash_sale')).not.toContain(ana.id)
    expect(await ids(`user_id=${jose.user.id}`)).toEqual([jose.id])
    expect(await ids('from=2026-11-27T00:00:00Z&to=2026-11-29T09:00:00Z')).toEqual([bruno.id, jose.id])
    expect(await ids('from=2026-11-26T21:00:00-03:00&to=2026-11-27T00:00:00.001Z')).toEqual([jose.id])
    expect(await ids('to=2026-11-20T10:00:00Z&q=souza')).toEqual([])
    expect(await ids('from=2026-11-28T00:00:00Z&source=cart&status=pending_payment')).toEqual([percent.id])
  })

  test('422 for a bad value or an unknown parameter', async () => {
    for (const bad of ['from=yesterday', 'to=2026-02-30T00:00:00Z', 'source=shop', 'status=lost', 'q=', 'sort=created_at']) {
      const res = await s.request('GET', `/v1/orders?${bad}`, { token: admin.token })
      expect(res.status).toBe(422)
      expect(res.body.code).toBe('validation_failed')
    }
  })

  test('a customer sees only their own orders, whatever they search for', async () => {
    expect(await ids('q=souza', ana.user.token)).toEqual([ana.id])
    expect(await ids('q=bruno', ana.user.token)).toEqual([])
    expect(await ids(`user_id=${bruno.user.id}`, ana.user.token)).toEqual([ana.id])
  })
})
