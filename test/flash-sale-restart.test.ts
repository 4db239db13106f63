// A drop outlives the process that opened it: restarting the in-process queue, or a Redis
// that lost its data, picks the queue up from SQL (seq after the highest decided, every
// customer already decided known) instead of handing out seqs and outcomes twice.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inArray } from 'drizzle-orm'
import Redis from 'ioredis'
import { ManualClock } from '../src/lib/clock'
import { allocateBatch, claimDrop, decidedEntries, EntryConflict, StaleAllocator } from '../src/modules/flash-sale/allocation'
import { orders } from '../src/modules/orders/schema'
import { startShop, type TestShop } from './support/harness'
import { testRedis } from './support/redis'
import { allocated, createDrop, entriesOf, ledgerOf } from './support/flash-sale'

const HOUR = 3600_000
const dir = mkdtempSync(join(tmpdir(), 'shop-flash-restart-'))
// Shared by both lives of the shop, so tokens signed before the restart still verify.
const env = { JWT_SECRET: 'a-flash-sale-restart-secret-of-32-chars!', DATA_KEY: Buffer.alloc(32, 7).toString('base64') }
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const enter = (s: TestShop, dropId: string, token: string) => s.request('POST', `/v1/flash-sales/drops/${dropId}/entries`, { token })
const mine = (s: TestShop, dropId: string, token: string) => s.request('GET', `/v1/flash-sales/drops/${dropId}/entries/me`, { token })

/** Every customer decided at most once, seqs 1..n once each, at most `units` winners, each with their own order. */
async function expectNoDoubleAllocation(s: TestShop, dropId: string, units: number, entered: number) {
  const rows = await entriesOf(s, dropId)
  expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: entered }, (_, i) => i + 1))
  expect(new Set(rows.map((r) => r.userId)).size).toBe(entered)
  const winners = rows.filter((r) => r.outcome === 'won')
  expect(winners.length).toBeLessThanOrEqual(units)
  const made = await s.database.db
    .select({ id: orders.id, userId: orders.userId })
    .from(orders)
    .where(
      inArray(
        orders.userId,
        rows.map((r) => r.userId),
      ),
    )
  expect(made.map((o) => o.id).sort()).toEqual(winners.map((w) => w.orderId!).sort())
  return rows
}

describe('in-process queue', () => {
  test('a restart during an open drop continues the seq, remembers who entered, and the drop still closes', async () => {
    const databaseUrl = `file:${join(dir, 'memory.db')}`
    const clock = new ManualClock()
    const before = await startShop({ clock, databaseUrl, env })
    const { dropId, product } = await createDrop(before, { units: 2, waitlist: 3 })
    await before.shop.services.flashSale.scheduler.tick()
    const early = await Promise.all([before.createUser(), before.createUser()])
    for (const [i, buyer] of early.entries()) expect((await enter(before, dropId, buyer.token)).body).toMatchObject({ seq: i + 1 })
    await allocated(before, dropId, 2)
    await before.close()

    const after = await startShop({ clock, databaseUrl, env })
    try {
      // New customers and the early ones (pressing again) all at once.
      const late = await Promise.all(Array.from({ length: 8 }, () => after.createUser()))
      const [answers, repeats] = await Promise.all([Promise.all(late.map((b) => enter(after, dropId, b.token))), Promise.all(early.map((b) => enter(after, dropId, b.token)))])
      // The early customers are still known: their own entries back, not second ones.
      expect(repeats.map((a) => [a.status, a.body.seq])).toEqual([
        [200, 1],
        [200, 2],
      ])
      const accepted = answers.filter((a) => a.status === 202)
      expect(accepted.map((a) => a.body.seq).sort()).toEqual([3, 4, 5])
      expect(answers.filter((a) => a.status === 409).map((a) => a.body.code)).toEqual(Array(5).fill('sold_out'))
      await allocated(after, dropId, 5)
      const rows = await expectNoDoubleAllocation(after, dropId, 2, 5)
      expect(rows.map((r) => r.outcome)).toEqual(['won', 'won', 'waitlisted', 'waitlisted', 'waitlisted'])
      for (const [i, answer] of answers.entries()) {
        if (answer.status !== 202) continue
        expect((await mine(after, dropId, late[i]!.token)).body).toEqual({ entry_id: answer.body.entry_id, seq: answer.body.seq, status: 'waitlisted' })
      }
      expect((await mine(after, dropId, early[1]!.token)).body).toMatchObject({ seq: 2, status: 'won', order_id: rows[1]!.orderId })

      // The drop closes on time: both units are held by the early winners, nothing returns yet.
      clock.advance(HOUR)
      await after.shop.services.flashSale.scheduler.tick()
      expect((await after.request('GET', `/v1/flash-sales/drops/${dropId}/audit`)).status).toBe(200)
      expect((await ledgerOf(after, product.id, dropId)).map((m) => m.delta)).toEqual([-2])
    } finally {
      await after.close()
    }
  })

  test('an entry whose seq or customer was already decided for someone else is refused, never inherited', async () => {
    // No allocator in this shop: the test plays it.
    const s = await startShop({ databaseUrl: `file:${join(dir, 'conflict.db')}`, env: { ...env, FLASH_SALE_ALLOCATOR: 'off' } })
    try {
      const { dropId } = await createDrop(s, { units: 2 })
      await s.shop.services.flashSale.scheduler.tick()
      const [a, b, c] = await Promise.all([s.createUser(), s.createUser(), s.createUser()])
      const entry = (seq: number, userId: string) => ({ id: String(seq), entryId: `entry-${seq}-${userId}`, seq, userId, at: Date.now() })
      const deps = { orders: s.shop.services.orderLifecycle }
      const epoch = (await s.database.write((tx) => claimDrop(tx, dropId)))!
      await s.database.write((tx) => allocateBatch(tx, deps, dropId, epoch, [entry(1, a.id)], Date.now()))
      // Seq 1 again, for another customer (a queue that lost its state): not `won` by inheritance.
      await expect(s.database.write((tx) => allocateBatch(tx, deps, dropId, epoch, [entry(1, b.id)], Date.now()))).rejects.toBeInstanceOf(EntryConflict)
      // The same customer under a new seq: refused, not a second unit.
      await expect(s.database.write((tx) => allocateBatch(tx, deps, dropId, epoch, [entry(2, a.id)], Date.now()))).rejects.toBeInstanceOf(EntryConflict)
      expect((await entriesOf(s, dropId)).map((r) => [r.seq, r.userId])).toEqual([[1, a.id]])
      await s.database.write((tx) => allocateBatch(tx, deps, dropId, epoch, [entry(1, a.id), entry(2, c.id)], Date.now()))
      expect((await entriesOf(s, dropId)).map((r) => [r.seq, r.userId, r.outcome])).toEqual([
        [1, a.id, 'won'],
        [2, c.id, 'won'],
      ])
      // Reading SQL to restore a queue fences the allocator: a batch it read from the lost queue cannot commit after.
      const restored = await s.database.write((tx) => decidedEntries(tx, dropId))
      expect(restored.map((e) => [e.seq, e.userId, e.status])).toEqual([
        [1, a.id, 'won'],
        [2, c.id, 'won'],
      ])
      await expect(s.database.write((tx) => allocateBatch(tx, deps, dropId, epoch, [entry(3, b.id)], Date.now()))).rejects.toBeInstanceOf(StaleAllocator)
    } finally {
      await s.close()
    }
  })
})

describe('Redis queue', () => {
  let redis: Awaited<ReturnType<typeof testRedis>>
  let probe: Redis
  beforeAll(async () => {
    redis = await testRedis()
    probe = new Redis(redis.url, { keyPrefix: redis.prefix })
  })
  afterAll(async () => {
    probe.disconnect()
    await redis.cleanup()
  })

  test('a Redis that lost its data mid-drop (no AOF) is rebuilt from SQL: no seq or unit given twice', async () => {
    const clock = new ManualClock()
    const s = await startShop({ clock, redis, databaseUrl: `file:${join(dir, 'redis.db')}`, env })
    try {
      const { dropId } = await createDrop(s, { units: 2, waitlist: 2 })
      const tick = () => s.shop.services.flashSale.scheduler.tick()
      await tick()
      const early = await Promise.all([s.createUser(), s.createUser()])
      for (const buyer of early) expect((await enter(s, dropId, buyer.token)).status).toBe(202)
      await allocated(s, dropId, 2)
      // Everything the drop had in Redis is gone, as after a restart without persistence.
      const keys = await probe.keys(`${redis.prefix}fs:{${dropId}}:*`)
      expect(keys.length).toBeGreaterThan(0)
      await probe.del(...keys.map((key) => key.slice(redis.prefix.length)))
      await tick()
      const late = await Promise.all([s.createUser(), s.createUser(), s.createUser()])
      const answers = []
      for (const buyer of late) answers.push(await enter(s, dropId, buyer.token))
      expect(answers.map((a) => [a.status, a.body.seq ?? a.body.code])).toEqual([
        [202, 3],
        [202, 4],
        [409, 'sold_out'],
      ])
      expect((await enter(s, dropId, early[1]!.token)).body).toMatchObject({ seq: 2 })
      await allocated(s, dropId, 4)
      const rows = await expectNoDoubleAllocation(s, dropId, 2, 4)
      expect(rows.map((r) => r.outcome)).toEqual(['won', 'won', 'waitlisted', 'waitlisted'])
      expect((await mine(s, dropId, late[0]!.token)).body).toMatchObject({ seq: 3, status: 'waitlisted' })
    } finally {
      await s.close()
    }
  })
})
