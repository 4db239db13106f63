import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { ManualClock } from '../src/lib/clock'
import { payments } from '../src/modules/payments/schema'
import { orders } from '../src/modules/orders/schema'
import { startShop, type TestShop } from './support/harness'
import { address, shopping } from './support/shopping'
import { allocated, createDrop } from './support/flash-sale'

const clock = new ManualClock()
let s: TestShop
let shop: ReturnType<typeof shopping>
beforeAll(async () => {
  s = await startShop({ clock })
  shop = shopping(s)
})
afterAll(() => s.close())

const card = () => ({ method: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: new Date(clock.now()).getUTCFullYear() + 2, cvc: '123', holder: 'ANA SOUZA' } })
const pay = (token: string, orderId: string) => s.request('POST', `/v1/orders/${orderId}/payments`, { token, body: card() })
const patch = (token: string, orderId: string, body: unknown) => s.request('PATCH', `/v1/orders/${orderId}`, { token, body })
const orderAs = (token: string, orderId: string) => s.request('GET', `/v1/orders/${orderId}`, { token }).then((r) => r.body)
/** A move only payments or the payment check make, made directly. */
const move = (orderId: string, to: 'paid' | 'shipped' | 'delivered' | 'cancelled') => s.shop.services.orderLifecycle.write((_tx, transition) => transition(orderId, to, clock.iso()))

/** A flash-sale winner whose profile has no address: their order has none either. */
async function winnerWithoutAddress() {
  const { dropId, admin } = await createDrop(s, { units: 1 })
  await s.shop.services.flashSale.scheduler.tick()
  const winner = await s.createUser()
  expect((await s.request('POST', `/v1/flash-sales/drops/${dropId}/entries`, { token: winner.token })).status).toBe(202)
  await allocated(s, dropId, 1)
  const orderId = (await s.request('GET', `/v1/flash-sales/drops/${dropId}/entries/me`, { token: winner.token })).body.order_id as string
  expect((await orderAs(winner.token, orderId)).shipping_address).toBeNull()
  return { winner, admin, orderId }
}

describe('address before payment', () => {
  test('failure 6: a flash-sale winner without an address cannot pay (409 address_required, nothing charged) until they set it; then they pay', async () => {
    const { winner, orderId } = await winnerWithoutAddress()
    const refused = await pay(winner.token, orderId)
    expect(refused.status).toBe(409)
    expect(refused.body.code).toBe('address_required')
    expect(await s.database.db.select().from(payments).where(eq(payments.orderId, orderId))).toEqual([])
    const set = await patch(winner.token, orderId, { shipping_address: address })
    expect(set.status).toBe(200)
    expect(set.body).toMatchObject({ status: 'pending_payment', shipping_address: address })
    expect((await pay(winner.token, orderId)).status).toBe(201)
    await s.shop.services.gateway.idle()
    expect(await orderAs(winner.token, orderId)).toMatchObject({ status: 'paid', shipping_address: address })
  })

  test("the address is the owner's to set (an admin sets statuses: 403; a stranger: 404), and it stops changing once the order is paid", async () => {
    const { winner, admin, orderId } = await winnerWithoutAddress()
    expect((await patch(admin.token, orderId, { shipping_address: address })).status).toBe(403)
    const stranger = await s.createUser()
    expect((await patch(stranger.token, orderId, { shipping_address: address })).status).toBe(404)
    expect((await patch(winner.token, orderId, { shipping_address: address })).status).toBe(200)
    await move(orderId, 'paid')
    const late = await patch(winner.token, orderId, { shipping_address: { ...address, line1: 'Rua Nova, 5' } })
    expect(late.status).toBe(409)
    expect(late.body.code).toBe('conflict')
  })

  test('an admin cannot ship an order without an address (409 address_required); the owner of such a paid order can still give one, and then it ships', async () => {
    const { winner, admin, orderId } = await winnerWithoutAddress()
    // Paid before payments required an address.
    await move(orderId, 'paid')
    const ship = await patch(admin.token, orderId, { status: 'shipped' })
    expect(ship.status).toBe(409)
    expect(ship.body.code).toBe('address_required')
    expect((await orderAs(admin.token, orderId)).status).toBe('paid')
    expect((await patch(winner.token, orderId, { shipping_address: address })).status).toBe(200)
    expect((await patch(admin.token, orderId, { status: 'shipped' })).body).toMatchObject({ status: 'shipped', shipping_address: address })
    expect((await patch(winner.token, orderId, { shipping_address: address })).status).toBe(409)
  })
})

describe('erasing an account', () => {
  test('its paid and shipped orders keep their address until they are delivered; every other order loses it at once; all lose the name', async () => {
    const u = await s.register('Carla Dias')
    const admin = await s.admin()
    const placeOne = async () => {
      const p = await shop.product(5)
      await s.request('POST', '/v1/cart/items', { token: u.token, body: { product_id: p.id, quantity: 1 } })
      return (await shop.checkout(u.token)).body.id as string
    }
    const [pending, cancelled, paid, shipped, delivered] = [await placeOne(), await placeOne(), await placeOne(), await placeOne(), await placeOne()] as string[]
    await move(cancelled!, 'cancelled')
    for (const id of [paid!, shipped!, delivered!]) await move(id, 'paid')
    for (const id of [shipped!, delivered!]) await move(id, 'shipped')
    await move(delivered!, 'delivered')
    expect((await s.request('DELETE', '/v1/me', { token: u.token, body: { password: u.password } })).status).toBe(204)
    const seen = async (id: string) => (await orderAs(admin.token, id)) as { customer_name: string; shipping_address: unknown }
    for (const id of [pending!, cancelled!, delivered!]) expect(await seen(id)).toMatchObject({ customer_name: '', shipping_address: null })
    for (const id of [paid!, shipped!]) expect(await seen(id)).toMatchObject({ customer_name: '', shipping_address: address })
    // Shipping the paid one keeps it; delivery drops it.
    expect((await patch(admin.token, paid!, { status: 'shipped' })).body.shipping_address).toEqual(address)
    for (const id of [paid!, shipped!]) {
      expect((await patch(admin.token, id, { status: 'delivered' })).body).toMatchObject({ status: 'delivered', shipping_address: null })
      expect((await s.database.db.select().from(orders).where(eq(orders.id, id)).get())!.shippingAddressSealed).toBeNull()
    }
  })

  test('a customer who was not erased keeps the address of a delivered order', async () => {
    const { u, order } = await shop.placedOrder()
    await move(order.id, 'paid')
    await move(order.id, 'shipped')
    await move(order.id, 'delivered')
    expect((await orderAs(u.token, order.id)).shipping_address).toEqual(address)
  })
})
