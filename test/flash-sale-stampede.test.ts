// The Black Friday promise under load: 2,000 customers press "buy" at once for 100 units.
import { afterEach, describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { eq } from 'drizzle-orm'
import { ManualClock } from '../src/lib/clock'
import { orders } from '../src/modules/orders/schema'
import { startShop, type TestShop } from './support/harness'
import { testRedis } from './support/redis'
import { allocated, createDrop, entriesOf, ledgerOf } from './support/flash-sale'

const BUYERS = 2_000
const UNITS = 100
const WAITLIST = 100
const HOUR = 3600_000

let teardown: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const step of teardown.reverse()) await step()
  teardown = []
})

type Answer = { user: string; status: number; seq?: number; entryId?: string; code?: string }

/**
 * Every buyer enters at once, 10 % of them twice (a double click), spread over the given
 * instances; then the invariants are checked in SQL, through the API and in the audit.
 */
async function stampede(shops: TestShop[]) {
  const [s] = shops as [TestShop]
  const clock = s.deps.clock as ManualClock
  const { dropId, product } = await createDrop(s, { units: UNITS, waitlist: WAITLIST })
  const buyers = await Promise.all(Array.from({ length: BUYERS }, () => s.createUser()))
  await Promise.all(shops.map((shop) => shop.shop.services.flashSale.scheduler.tick()))

  const attempts = [...buyers, ...buyers.filter((_, i) => i % 10 === 0)].map((buyer, i) =>
    shops[i % shops.length]!.request('POST', `/v1/flash-sales/drops/${dropId}/entries`, { token: buyer.token }).then(
      (res): Answer => ({ user: buyer.id, status: res.status, seq: res.body.seq, entryId: res.body.entry_id, code: res.body.code }),
    ),
  )
  const answers = await Promise.all(attempts)

  // Accepted: exactly units + waitlist, seqs 1..200 once each, one per customer.
  const accepted = answers.filter((a) => a.status === 202)
  expect(accepted).toHaveLength(UNITS + WAITLIST)
  expect(accepted.map((a) => a.seq!).sort((a, b) => a - b)).toEqual(Array.from({ length: UNITS + WAITLIST }, (_, i) => i + 1))
  expect(new Set(accepted.map((a) => a.user)).size).toBe(UNITS + WAITLIST)
  // Everyone else is sold out; a double click gets its entry back, or a second sold_out.
  const acceptedBy = new Map(accepted.map((a) => [a.user, a]))
  const byUser = Map.groupBy(answers, (a) => a.user)
  for (const [user, mine] of byUser) {
    const statuses = mine.map((a) => a.status).sort()
    expect([[202], [409], [200, 202], [409, 409]]).toContainEqual(statuses)
    for (const a of mine) if (a.status === 200) expect(a.entryId).toBe(acceptedBy.get(user)!.entryId!)
    for (const a of mine) if (a.status === 409) expect(a.code).toBe('sold_out')
  }

  await allocated(s, dropId, UNITS + WAITLIST)
  const rows = await entriesOf(s, dropId)
  expect(rows).toHaveLength(UNITS + WAITLIST)
  const winners = rows.filter((r) => r.outcome === 'won')
  // Exactly 100 winners, the 100 smallest seqs, each with their own pending flash-sale order.
  expect(winners.map((r) => r.seq)).toEqual(Array.from({ length: UNITS }, (_, i) => i + 1))
  expect(rows.filter((r) => r.outcome === 'waitlisted').map((r) => r.seq)).toEqual(Array.from({ length: WAITLIST }, (_, i) => UNITS + i + 1))
  for (const row of rows) expect(acceptedBy.get(row.userId)).toMatchObject({ seq: row.seq, entryId: row.id })
  const flashOrders = await s.database.db.select().from(orders).where(eq(orders.source, 'flash_sale'))
  const dropOrders = flashOrders.filter((o) => winners.some((w) => w.orderId === o.id))
  expect(dropOrders).toHaveLength(UNITS)
  expect(new Set(dropOrders.map((o) => o.userId))).toEqual(new Set(winners.map((w) => w.userId)))
  expect(dropOrders.every((o) => o.status === 'pending_payment' && o.total === 100)).toBe(true)

  // What a customer sees, on any instance.
  const first = buyers.find((b) => b.id === winners[0]!.userId)!
  const me = await shops.at(-1)!.request('GET', `/v1/flash-sales/drops/${dropId}/entries/me`, { token: first.token })
  expect(me.body).toMatchObject({ seq: 1, status: 'won', order_id: winners[0]!.orderId })

  // After the close: the audit shows the same winners; the waitlist is held back while they
  // have time to pay (it may still get their units). The ledger took exactly 100 units.
  clock.advance(HOUR)
  await s.shop.services.flashSale.scheduler.tick()
  const audit = await shops.at(-1)!.request('GET', `/v1/flash-sales/drops/${dropId}/audit`)
  expect(audit.status).toBe(200)
  expect(audit.body.final).toBe(false)
  expect(audit.body.entries.map((e: { seq: number; outcome: string }) => [e.seq, e.outcome])).toEqual(winners.map((w) => [w.seq, 'won']))
  expect((await entriesOf(s, dropId)).filter((r) => r.outcome === 'waitlisted')).toHaveLength(WAITLIST)
  expect((await ledgerOf(s, product.id, dropId)).map((m) => [m.delta, m.reason])).toEqual([[-UNITS, 'flash_sale_reserve']])
}

describe('2,000 concurrent entries for 100 units', () => {
  test('in-process queue', async () => {
    const s = await startShop({ clock: new ManualClock() })
    teardown.push(() => s.close())
    await stampede([s])
  }, 60_000)

  test('Redis queue', async () => {
    const redis = await testRedis()
    teardown.push(() => redis.cleanup())
    const s = await startShop({ clock: new ManualClock(), redis })
    teardown.push(() => s.close())
    await stampede([s])
  }, 60_000)

  test('two server instances on one Redis and one database behave as one', async () => {
    const redis = await testRedis()
    teardown.push(() => redis.cleanup())
    const clock = new ManualClock()
    const env = { JWT_SECRET: randomBytes(32).toString('base64url') }
    const a = await startShop({ clock, redis, env })
    teardown.push(() => a.close())
    const b = await startShop({ clock, redis, env, databaseUrl: a.config.DATABASE_URL })
    teardown.push(() => b.close())
    await stampede([a, b])
  }, 60_000)
})
