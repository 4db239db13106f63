import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { and, eq } from 'drizzle-orm'
import { ManualClock } from '../src/lib/clock'
import { sha256Hex } from '../src/lib/crypto'
import { orderItems } from '../src/modules/orders/schema'
import { stockMovements } from '../src/modules/catalog/schema'
import { startShop, type TestShop } from './support/harness'
import { createProduct, createRegion } from './support/fixtures'
import { allocated, createDrop, entriesOf } from './support/flash-sale'
import { testRedis } from './support/redis'

const HOUR = 3600_000
const clock = new ManualClock()
let s: TestShop
let admin: { id: string; token: string }
beforeAll(async () => {
  s = await startShop({ clock })
  admin = await s.admin()
})
afterAll(() => s.close())

const tick = (shop = s) => shop.shop.services.flashSale.scheduler.tick()
const enter = (dropId: string, token: string, shop = s) => shop.request('POST', `/v1/flash-sales/drops/${dropId}/entries`, { token })
const edit = (id: string, body: unknown, token = admin.token) => s.request('PATCH', `/v1/flash-sales/${id}`, { token, body })
const cancel = (id: string, token = admin.token, shop = s) => shop.request('POST', `/v1/flash-sales/${id}/cancel`, { token })

/** A campaign of `drops` hourly drops of 10 units at 100, starting now, made by `boss` on `shop`. */
async function campaignOf(drops: number, shop = s, boss = admin) {
  const product = await createProduct(shop.database, (await createRegion(shop.database)).id, 1000, { price: 999_900 })
  const body = {
    product_id: product.id,
    price: 100,
    units_per_drop: 10,
    drop_count: drops,
    interval_seconds: 3600,
    starts_at: shop.deps.clock.iso(),
    per_customer_limit: 1,
    payment_window_seconds: 900,
    waitlist_size: 5,
  }
  const res = await shop.request('POST', '/v1/flash-sales', { token: boss.token, body })
  expect(res.status).toBe(201)
  return { campaign: res.body, product }
}
const reservedBy = async (dropId: string) =>
  (
    await s.database.db
      .select()
      .from(stockMovements)
      .where(and(eq(stockMovements.ref, dropId), eq(stockMovements.reason, 'flash_sale_reserve')))
  ).map((m) => m.delta)

describe('PATCH /v1/flash-sales/{id}', () => {
  test('new terms reach the drops that have not opened; the open one keeps its own', async () => {
    const { campaign } = await campaignOf(3)
    await tick()
    const [first, second] = campaign.drops
    const res = await edit(campaign.id, { price: 250, units_per_drop: 4, waitlist_size: 1, payment_window_seconds: 600 })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ price: 250, units_per_drop: 4, waitlist_size: 1, payment_window_seconds: 600 })
    expect(res.body.drops.map((d: { status: string; price: number; units: number }) => [d.status, d.price, d.units])).toEqual([
      ['open', 100, 10],
      ['scheduled', 250, 4],
      ['scheduled', 250, 4],
    ])
    // The open drop sells at its own price; the next one opens with the new terms.
    const early = await s.createUser()
    expect((await enter(first.id, early.token)).status).toBe(202)
    await allocated(s, first.id, 1)
    clock.advance(HOUR)
    await tick()
    expect(await reservedBy(second.id)).toEqual([-4])
    const buyers = await Promise.all([1, 2, 3, 4, 5, 6].map(() => s.createUser()))
    const answers = []
    for (const buyer of buyers) answers.push((await enter(second.id, buyer.token)).status)
    // 4 units + a waitlist of 1: the sixth is sold out.
    expect(answers).toEqual([202, 202, 202, 202, 202, 409])
    await allocated(s, second.id, 5)
    const [won] = (await entriesOf(s, second.id)).filter((e) => e.outcome === 'won')
    const [oldWin] = await entriesOf(s, first.id)
    const priceOf = async (orderId: string) => (await s.database.db.select().from(orderItems).where(eq(orderItems.orderId, orderId)).get())!.unitPrice
    expect(await priceOf(won!.orderId!)).toBe(250)
    expect(await priceOf(oldWin!.orderId!)).toBe(100)
    expect(Date.parse(won!.payBy!) - clock.now()).toBe(600_000)
    clock.advance(2 * HOUR)
    await tick()
  })

  test('409 once every drop has opened, or when the campaign is cancelled; 422 for an empty, unknown or bad body; 404; admin only', async () => {
    const { campaign } = await campaignOf(1)
    await tick()
    const opened = await edit(campaign.id, { price: 1 })
    expect(opened.status).toBe(409)
    expect(opened.body.code).toBe('conflict')
    clock.advance(HOUR)
    await tick()
    const other = (await campaignOf(2)).campaign
    for (const body of [{}, { drop_count: 3 }, { price: -1 }, { units_per_drop: 0 }, { price: '100' }]) expect((await edit(other.id, body)).status).toBe(422)
    expect((await edit('nope', { price: 1 })).status).toBe(404)
    expect((await edit(other.id, { price: 1 }, (await s.createUser()).token)).status).toBe(403)
    expect((await s.request('PATCH', `/v1/flash-sales/${other.id}`, { body: { price: 1 } })).status).toBe(401)
    expect((await cancel(other.id)).status).toBe(200)
    expect((await edit(other.id, { price: 1 })).status).toBe(409)
    clock.advance(2 * HOUR)
    await tick()
  })
})

describe('POST /v1/flash-sales/{id}/cancel', () => {
  test('drops not yet open become cancelled and take no units; the open drop runs to its close; cancelling twice changes nothing', async () => {
    const { campaign, product } = await campaignOf(3)
    await tick()
    const [open, later, last] = campaign.drops
    const res = await cancel(campaign.id)
    expect(res.status).toBe(200)
    expect(res.body.cancelled_at).toBe(clock.iso())
    expect(res.body.drops.map((d: { status: string }) => d.status)).toEqual(['open', 'cancelled', 'cancelled'])
    expect(res.body.drops[1].units_left).toBe(0)
    const buyer = await s.createUser()
    expect((await enter(open.id, buyer.token)).status).toBe(202)
    await allocated(s, open.id, 1)
    clock.advance(HOUR)
    await tick()
    // The cancelled drop's hour: no units move, no entry is taken.
    expect(await reservedBy(later.id)).toEqual([])
    const refused = await enter(later.id, (await s.createUser()).token)
    expect(refused.status).toBe(409)
    expect(refused.body).toMatchObject({ code: 'drop_not_open', opens_at: later.opens_at })
    const after = (await s.request('GET', `/v1/flash-sales/${campaign.id}`)).body
    expect(after.drops.map((d: { status: string }) => d.status)).toEqual(['closed', 'cancelled', 'cancelled'])
    expect((await s.request('GET', `/v1/flash-sales/drops/${last.id}/audit`)).status).toBe(409)
    const again = await cancel(campaign.id)
    expect(again.status).toBe(200)
    expect(again.body.cancelled_at).toBe(res.body.cancelled_at)
    // Only the drop that opened reserved units (and gave back what it did not sell).
    const moves = await s.database.db.select().from(stockMovements).where(eq(stockMovements.productId, product.id))
    expect(moves.filter((m) => m.ref === later.id || m.ref === last.id)).toEqual([])
    expect((await cancel('nope')).status).toBe(404)
    expect((await cancel(campaign.id, buyer.token)).status).toBe(403)
    clock.advance(2 * HOUR)
    await tick()
  })

  test('another instance refuses entries to a drop cancelled elsewhere (409 drop_not_open, not 503)', async () => {
    const redis = await testRedis()
    const shared = new ManualClock(clock.now())
    const a = await startShop({ clock: shared, redis })
    const b = await startShop({ clock: shared, redis, databaseUrl: a.config.DATABASE_URL, env: { JWT_SECRET: a.config.JWT_SECRET, DATA_KEY: a.config.DATA_KEY } })
    try {
      const boss = await a.admin()
      const { campaign } = await campaignOf(2, a, boss)
      // B knows the drop's window before the cancellation.
      const buyer = await b.createUser()
      expect((await enter(campaign.drops[1].id, buyer.token, b)).status).toBe(409)
      expect((await cancel(campaign.id, boss.token, a)).status).toBe(200)
      shared.advance(HOUR)
      await tick(a)
      await tick(b)
      const refused = await enter(campaign.drops[1].id, buyer.token, b)
      expect(refused.status).toBe(409)
      expect(refused.body.code).toBe('drop_not_open')
    } finally {
      await b.close()
      await a.close()
      await redis.cleanup()
    }
  })
})

describe('a repeat entry and the audit', () => {
  test('a repeat POST answers 200 with the entry as GET …/entries/me shows it now, never the first decision', async () => {
    const { dropId } = await createDrop(s, { units: 1, waitlist: 1 })
    await tick()
    const [winner, next] = [await s.createUser(), await s.createUser()]
    expect((await enter(dropId, winner.token)).status).toBe(202)
    expect((await enter(dropId, next.token)).status).toBe(202)
    await allocated(s, dropId, 2)
    const won = await enter(dropId, winner.token)
    expect(won.status).toBe(200)
    expect(won.body).toEqual((await s.request('GET', `/v1/flash-sales/drops/${dropId}/entries/me`, { token: winner.token })).body)
    const { order_id: orderId, pay_by: payBy, status, seq } = won.body
    expect([status, seq, typeof orderId, typeof payBy]).toEqual(['won', 1, 'string', 'string'])
    // The winner does not pay: the unit passes down the waitlist.
    await s.shop.services.orderLifecycle.write((tx, transition) => transition(orderId, 'unpaid', clock.iso()))
    expect((await enter(dropId, winner.token)).body).toMatchObject({ status: 'expired', seq: 1 })
    expect((await enter(dropId, next.token)).body).toMatchObject({ status: 'won', seq: 2, order_id: expect.any(String) })
    clock.advance(HOUR)
    await tick()
  })

  test('each drop has its own random salt, so a customer cannot be linked across drops', async () => {
    const { campaign } = await campaignOf(2)
    const buyer = await s.createUser()
    for (const drop of campaign.drops) {
      await tick()
      expect((await enter(drop.id, buyer.token)).status).toBe(202)
      await allocated(s, drop.id, 1)
      clock.advance(HOUR)
      await tick()
    }
    const audits = await Promise.all(campaign.drops.map(async (d: { id: string }) => (await s.request('GET', `/v1/flash-sales/drops/${d.id}/audit`)).body))
    expect(audits[0].salt).not.toBe(audits[1].salt)
    for (const audit of audits) expect(audit.entries[0].customer_hash).toBe(sha256Hex(`${audit.salt}:${buyer.id}`))
    expect(audits[0].entries[0].customer_hash).not.toBe(audits[1].entries[0].customer_hash)
  })
})
