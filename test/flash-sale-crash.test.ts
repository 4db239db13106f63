// The allocator dies (kill -9) in the middle of a batch; the next one loses no entry and
// allocates no unit twice. And an allocator that lost its drop cannot write any more.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { eq, inArray } from 'drizzle-orm'
import Redis from 'ioredis'
import { allocateBatch, claimDrop, OutOfOrder, rehearseAllocation, StaleAllocator } from '../src/modules/flash-sale/allocation'
import { orderItems, orders } from '../src/modules/orders/schema'
import { startShop, type TestShop } from './support/harness'
import { testRedis } from './support/redis'
import { createDrop, decidedCount, entriesOf, until } from './support/flash-sale'

const UNITS = 100
const ENTRIES = 300

let s: TestShop
let redis: Awaited<ReturnType<typeof testRedis>>
let probe: Redis
beforeAll(async () => {
  redis = await testRedis()
  probe = new Redis(redis.url, { keyPrefix: redis.prefix })
  // This shop only takes entries: the allocators are the spawned processes. The system clock
  // on both sides, so the winners' payment checks (due in 15 minutes) stay in the future.
  s = await startShop({ redis, env: { FLASH_SALE_ALLOCATOR: 'off' } })
})
afterAll(async () => {
  await s.close()
  probe.disconnect()
  await redis.cleanup()
})

// Every allocator spawned is killed after the file too: one a failed wait left running would outlive the suite.
const allocators: ReturnType<typeof Bun.spawn>[] = []
afterAll(() => {
  for (const allocator of allocators) allocator.kill('SIGKILL')
})

function spawnAllocator() {
  const allocator = Bun.spawn(['bun', 'test/support/allocator-process.ts'], {
    env: { ...process.env, DATABASE_URL: s.config.DATABASE_URL, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, PAUSE_MS: '15' },
    stdout: 'ignore',
    stderr: 'inherit',
  })
  allocators.push(allocator)
  return allocator
}

const pendingOf = async (dropId: string) => ((await probe.xpending(`fs:{${dropId}}:stream`, 'allocator')) as [number])[0]

test('kill -9 mid-batch, twice: no entry lost, no unit allocated twice, still in seq order', async () => {
  const { dropId } = await createDrop(s, { units: UNITS, waitlist: ENTRIES - UNITS })
  await s.shop.services.flashSale.scheduler.tick()
  const buyers = await Promise.all(Array.from({ length: ENTRIES }, () => s.createUser()))
  const answers = await Promise.all(buyers.map((b) => s.request('POST', `/v1/flash-sales/drops/${dropId}/entries`, { token: b.token })))
  expect(answers.every((a) => a.status === 202)).toBe(true)

  let replayed = 0
  for (const killAt of [40, 160]) {
    const allocator = spawnAllocator()
    // Killed while entries are delivered but not yet settled: a batch in flight.
    await until(`allocator past ${killAt} entries with a batch in flight`, async () => (await decidedCount(s, dropId)) >= killAt && (await pendingOf(dropId)) > 0)
    allocator.kill('SIGKILL')
    await allocator.exited
    replayed += await pendingOf(dropId)
  }
  expect(replayed).toBeGreaterThan(0)
  const last = spawnAllocator()
  try {
    await until('every entry decided', async () => (await decidedCount(s, dropId)) === ENTRIES && (await pendingOf(dropId)) === 0)
  } finally {
    last.kill('SIGKILL')
    await last.exited
  }

  const rows = await entriesOf(s, dropId)
  expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: ENTRIES }, (_, i) => i + 1))
  expect(new Set(rows.map((r) => r.userId)).size).toBe(ENTRIES)
  const winners = rows.filter((r) => r.outcome === 'won')
  expect(winners.map((r) => r.seq)).toEqual(Array.from({ length: UNITS }, (_, i) => i + 1))
  // One order per winner and no other: a batch that died before its commit left nothing behind.
  const made = await s.database.db
    .select({ id: orders.id, userId: orders.userId })
    .from(orders)
    .where(
      inArray(
        orders.userId,
        buyers.map((b) => b.id),
      ),
    )
  expect(made).toHaveLength(UNITS)
  expect(new Set(made.map((o) => o.id))).toEqual(new Set(winners.map((w) => w.orderId!)))
  // Every customer's result was published after the replay.
  const me = await s.request('GET', `/v1/flash-sales/drops/${dropId}/entries/me`, { token: buyers[answers.findIndex((a) => a.body.seq === ENTRIES)]!.token })
  expect(me.body).toMatchObject({ seq: ENTRIES, status: 'waitlisted' })
}, 60_000)

test('an allocator that lost the drop to a newer epoch cannot commit; nor can one that skips a seq', async () => {
  const { dropId } = await createDrop(s, { units: 2 })
  await s.shop.services.flashSale.scheduler.tick()
  const [a, b] = await Promise.all([s.createUser(), s.createUser()])
  const entry = (seq: number, userId: string) => ({ id: `${seq}-0`, entryId: `entry-${seq}-${dropId}`, seq, userId, at: Date.now() })
  const deps = { orders: s.shop.services.orderLifecycle }
  const old = (await s.database.write((tx) => claimDrop(tx, dropId)))!
  const current = (await s.database.write((tx) => claimDrop(tx, dropId)))!
  expect(current).toBe(old + 1)
  await expect(s.database.write((tx) => allocateBatch(tx, deps, dropId, old, [entry(1, a.id)], Date.now()))).rejects.toBeInstanceOf(StaleAllocator)
  await expect(s.database.write((tx) => allocateBatch(tx, deps, dropId, current, [entry(2, b.id)], Date.now()))).rejects.toBeInstanceOf(OutOfOrder)
  expect(await entriesOf(s, dropId)).toEqual([])
  expect(
    await s.database.db
      .select()
      .from(orders)
      .where(inArray(orders.userId, [a.id, b.id])),
  ).toEqual([])
  // The current holder, in order, writes; a replay of the same batch changes nothing.
  const batch = [entry(1, a.id), entry(2, b.id)]
  const first = await s.database.write((tx) => allocateBatch(tx, deps, dropId, current, batch, Date.now()))
  const again = await s.database.write((tx) => allocateBatch(tx, deps, dropId, current, batch, Date.now()))
  expect(again).toEqual(first)
  expect((await entriesOf(s, dropId)).map((r) => r.outcome)).toEqual(['won', 'won'])
  expect(await s.database.db.select().from(orders).where(eq(orders.userId, a.id))).toHaveLength(1)
})

test('a batch with more winners than one transaction places is decided in seq order over several, each a prefix', async () => {
  const { dropId } = await createDrop(s, { units: 2, waitlist: 2 })
  await s.shop.services.flashSale.scheduler.tick()
  const buyers = await Promise.all(Array.from({ length: 4 }, () => s.createUser()))
  const batch = buyers.map((b, i) => ({ id: `${i + 1}-0`, entryId: `entry-${i + 1}-${dropId}`, seq: i + 1, userId: b.id, at: Date.now() }))
  const deps = { orders: s.shop.services.orderLifecycle }
  const epoch = (await s.database.write((tx) => claimDrop(tx, dropId)))!
  const first = await s.database.write((tx) => allocateBatch(tx, deps, dropId, epoch, batch, Date.now(), 1))
  expect(first.map((e) => e.status)).toEqual(['won'])
  // The second winner, then the waitlist, which places no order and so is not capped.
  const rest = await s.database.write((tx) => allocateBatch(tx, deps, dropId, epoch, batch.slice(first.length), Date.now(), 1))
  expect(rest.map((e) => e.status)).toEqual(['won', 'waitlisted', 'waitlisted'])
  expect((await entriesOf(s, dropId)).map((r) => [r.seq, r.outcome])).toEqual([
    [1, 'won'],
    [2, 'won'],
    [3, 'waitlisted'],
    [4, 'waitlisted'],
  ])
  expect(
    await s.database.db
      .select({ id: orders.id })
      .from(orders)
      .where(
        inArray(
          orders.userId,
          buyers.map((b) => b.id),
        ),
      ),
  ).toHaveLength(2)
})

test('a rehearsal of the allocation before the drop opens writes nothing: the drop is then allocated from seq 1', async () => {
  const { dropId, product } = await createDrop(s, { units: 2 })
  await s.shop.services.flashSale.scheduler.tick()
  const buyers = await Promise.all(Array.from({ length: 3 }, () => s.createUser()))
  const deps = { orders: s.shop.services.orderLifecycle }
  const epoch = (await s.database.write((tx) => claimDrop(tx, dropId)))!
  const itemsOfDrop = () => s.database.db.select({ orderId: orderItems.orderId }).from(orderItems).where(eq(orderItems.productId, product.id))
  await rehearseAllocation(s.database, deps, dropId, epoch, Date.now(), 4, 2)
  expect(await entriesOf(s, dropId)).toEqual([])
  expect(await itemsOfDrop()).toEqual([])
  const batch = buyers.map((b, i) => ({ id: `${i + 1}-0`, entryId: `entry-${i + 1}-${dropId}`, seq: i + 1, userId: b.id, at: Date.now() }))
  const settled = await s.database.write((tx) => allocateBatch(tx, deps, dropId, epoch, batch, Date.now()))
  expect(settled.map((e) => [e.userId, e.status])).toEqual([
    [buyers[0]!.id, 'won'],
    [buyers[1]!.id, 'won'],
    [buyers[2]!.id, 'waitlisted'],
  ])
  expect(await itemsOfDrop()).toHaveLength(2)
})
