// One contract, two adapters: the in-process queue and the Redis Streams queue must agree.
import { afterAll, describe, expect, test } from 'bun:test'
import type { FlashSaleQueue, QueuedEntry } from '../src/modules/flash-sale/queue/port'
import { memoryQueue } from '../src/modules/flash-sale/queue/memory'
import { redisQueue } from '../src/modules/flash-sale/queue/redis'
import { createRedis } from '../src/infra/redis'
import { newId } from '../src/lib/ids'
import { testRedis } from './support/redis'

const NOW = Date.parse('2026-11-27T12:00:00Z')
const HOUR = 3600_000

const redis = await testRedis()
const queues: FlashSaleQueue[] = []
afterAll(async () => {
  for (const queue of queues) await queue.disconnect()
  await redis.cleanup()
})

const adapters: [string, () => FlashSaleQueue][] = [
  ['memory', memoryQueue],
  ['redis', () => redisQueue(createRedis(redis.url, redis.prefix), createRedis(redis.url, redis.prefix))],
]

describe.each(adapters)('%s queue', (_name, make) => {
  const queue = make()
  queues.push(queue)
  const gate = (id: string, capacity: number, decidedSeq = 0) => ({ id, opensAt: NOW, closesAt: NOW + HOUR, capacity, decidedSeq })
  const openDrop = async (capacity = 3) => {
    const id = newId()
    expect(await queue.openDrop(gate(id, capacity))).toBe('open')
    return id
  }

  test('refuses entries before the drop opens and after it closes', async () => {
    const id = newId()
    expect(await queue.enter(id, 'u1', newId(), NOW)).toEqual({ kind: 'not_open' })
    await queue.openDrop(gate(id, 5))
    // Prepared ahead of its opening: the gate is set, entries wait for opens_at.
    expect(await queue.enter(id, 'u1', newId(), NOW - 1)).toEqual({ kind: 'not_open' })
    expect((await queue.enter(id, 'u1', newId(), NOW)).kind).toBe('accepted')
    expect(await queue.enter(id, 'u2', newId(), NOW + HOUR)).toEqual({ kind: 'not_open' })
    await queue.closeDrop(id)
    expect(await queue.enter(id, 'u3', newId(), NOW)).toEqual({ kind: 'not_open' })
    // Closing is final: a late mirror of the open state does not reopen it.
    expect(await queue.openDrop(gate(id, 5))).toBe('closed')
    expect(await queue.enter(id, 'u3', newId(), NOW)).toEqual({ kind: 'not_open' })
    expect((await queue.enter(id, 'u1', newId(), NOW)).kind).toBe('repeat')
  })

  test('seq counts up from 1; a repeat answers the stored entry; past capacity is sold out', async () => {
    const id = await openDrop(2)
    const first = await queue.enter(id, 'a', 'entry-a', NOW)
    expect(first).toEqual({ kind: 'accepted', entry: { entryId: 'entry-a', seq: 1, at: NOW, status: 'queued' } })
    expect(await queue.enter(id, 'a', 'entry-a2', NOW + 5)).toEqual({ kind: 'repeat', entry: { entryId: 'entry-a', seq: 1, at: NOW, status: 'queued' } })
    expect((await queue.enter(id, 'b', 'entry-b', NOW)) as unknown).toMatchObject({ kind: 'accepted', entry: { seq: 2 } })
    expect(await queue.enter(id, 'c', 'entry-c', NOW)).toEqual({ kind: 'sold_out' })
    expect((await queue.enter(id, 'b', 'x', NOW)).kind).toBe('repeat')
    expect(await queue.entryOf(id, 'c')).toBeNull()
    expect(await queue.entryOf(id, 'b')).toEqual({ entryId: 'entry-b', seq: 2, at: NOW, status: 'queued' })
  })

  test('racing entries: exactly capacity accepted, one per customer, seqs 1..capacity', async () => {
    const id = await openDrop(100)
    const users = Array.from({ length: 300 }, (_, i) => `user-${i}`)
    const attempts = [...users, ...users.slice(0, 150)].map((user) => queue.enter(id, user, newId(), NOW).then((r) => ({ user, r })))
    const results = await Promise.all(attempts)
    const accepted = results.filter((x) => x.r.kind === 'accepted')
    expect(accepted).toHaveLength(100)
    expect(new Set(accepted.map((x) => x.user)).size).toBe(100)
    expect(accepted.map((x) => (x.r.kind === 'accepted' ? x.r.entry.seq : 0)).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
    expect(results.filter((x) => x.r.kind === 'sold_out').length + results.filter((x) => x.r.kind === 'repeat').length).toBe(350)
    expect(await queue.backlog(id)).toBe(100)
  })

  const seqs = (entries: QueuedEntry[] | null) => entries?.map((e) => e.seq)

  test('take hands entries over in seq order; they stay pending until settled and come back first', async () => {
    const id = await openDrop(10)
    for (const user of ['a', 'b', 'c', 'd']) await queue.enter(id, user, `e-${user}`, NOW)
    const first = (await queue.take(id, 'A', HOUR, 3))!
    expect(first.map((e) => [e.seq, e.userId, e.entryId])).toEqual([
      [1, 'a', 'e-a'],
      [2, 'b', 'e-b'],
      [3, 'c', 'e-c'],
    ])
    // Taken again (a batch cut short, a successor after a crash): the unsettled ones first, then the new.
    expect(seqs(await queue.take(id, 'A', HOUR, 10))).toEqual([1, 2, 3, 4])
    await queue.settle(id, [
      { id: first[0]!.id, userId: 'a', status: 'won' },
      { id: first[1]!.id, userId: 'b', status: 'waitlisted' },
    ])
    expect(seqs(await queue.take(id, 'A', HOUR, 1))).toEqual([3])
    expect(seqs(await queue.take(id, 'A', HOUR, 10))).toEqual([3, 4])
    expect(await queue.entryOf(id, 'a')).toMatchObject({ seq: 1, status: 'won' })
    expect(await queue.entryOf(id, 'b')).toMatchObject({ seq: 2, status: 'waitlisted' })
    expect((await queue.enter(id, 'a', 'again', NOW)) as unknown).toMatchObject({ kind: 'repeat', entry: { status: 'won' } })
    expect(await queue.backlog(id)).toBe(2)
    const rest = (await queue.take(id, 'A', HOUR, 10))!
    await queue.settle(
      id,
      rest.map((e) => ({ id: e.id, userId: e.userId, status: 'waitlisted' as const })),
    )
    expect(await queue.take(id, 'A', HOUR, 10)).toEqual([])
    // Settling twice (a retry after a reconnect) changes nothing.
    await queue.settle(id, [{ id: first[0]!.id, userId: 'a', status: 'won' }])
    expect(await queue.backlog(id)).toBe(0)
    expect(await queue.entryOf(id, 'a')).toMatchObject({ status: 'won' })
  })

  test('a take made while a settle is in flight sees it applied', async () => {
    const id = await openDrop(10)
    for (const user of ['a', 'b', 'c']) await queue.enter(id, user, `e-${user}`, NOW)
    const [a, b] = (await queue.take(id, 'A', HOUR, 2))!
    const settling = queue.settle(id, [
      { id: a!.id, userId: 'a', status: 'won' },
      { id: b!.id, userId: 'b', status: 'won' },
    ])
    expect(seqs(await queue.take(id, 'A', HOUR, 10))).toEqual([3])
    await settling
    expect(await queue.entryOf(id, 'b')).toMatchObject({ status: 'won' })
  })

  test('wait wakes up for a new entry, which the next take hands over', async () => {
    const id = await openDrop(10)
    expect(await queue.take(id, 'A', HOUR, 10)).toEqual([])
    const waiting = queue.wait(id, 1500)
    await Bun.sleep(20)
    await queue.enter(id, 'late', 'e-late', NOW)
    expect(await waiting).toBe(true)
    expect((await queue.take(id, 'A', HOUR, 10))?.map((e) => e.userId)).toEqual(['late'])
    expect(await queue.wait(id, 50)).toBe(false)
  })

  test('entries that enter together with the one that ends a wait come with the same take', async () => {
    const id = await openDrop(10)
    const waiting = queue.wait(id, 1500)
    await Bun.sleep(20)
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((user) => queue.enter(id, user, `e-${user}`, NOW)))
    expect(await waiting).toBe(true)
    expect(seqs(await queue.take(id, 'A', HOUR, 10))).toEqual([1, 2, 3, 4, 5])
  })

  test('one lease holder per drop: take renews it, gives another owner null; it is given up or lapses', async () => {
    const id = await openDrop(10)
    expect(await queue.take(id, 'A', 10_000, 10)).toEqual([])
    expect(await queue.take(id, 'B', 10_000, 10)).toBeNull()
    expect(await queue.take(id, 'A', 10_000, 10)).toEqual([])
    await queue.unlease(id, 'B')
    expect(await queue.take(id, 'B', 10_000, 10)).toBeNull()
    await queue.unlease(id, 'A')
    expect(await queue.take(id, 'B', 50, 10)).toEqual([])
    await Bun.sleep(120)
    expect(await queue.take(id, 'A', 10_000, 10)).toEqual([])
    expect(await queue.take(id, 'B', 10_000, 10)).toBeNull()
  })

  test("a successor takes the drop once the crashed holder's lease lapses, and its unsettled entries first", async () => {
    const id = await openDrop(10)
    for (const user of ['a', 'b', 'c']) await queue.enter(id, user, `e-${user}`, NOW)
    expect(seqs(await queue.take(id, 'A', 50, 2))).toEqual([1, 2])
    // Refused while A's lease lasts: nothing is handed over to B.
    expect(await queue.take(id, 'B', 10_000, 10)).toBeNull()
    await Bun.sleep(120)
    expect(seqs(await queue.take(id, 'B', 10_000, 10))).toEqual([1, 2, 3])
    expect(await queue.take(id, 'A', 10_000, 10)).toBeNull()
  })

  test('a queue behind what SQL decided takes no entry until restored; then seq goes on and every restored customer is a repeat', async () => {
    const id = newId()
    // SQL decided seqs 1..3 of this drop; the queue knows nothing (restarted, or its data lost).
    expect(await queue.openDrop(gate(id, 6, 3))).toBe('behind')
    expect(await queue.enter(id, 'new', newId(), NOW)).toEqual({ kind: 'not_open' })
    const decided = [
      { entryId: 'e-a', seq: 1, userId: 'a', at: NOW - 3, status: 'won' as const },
      { entryId: 'e-b', seq: 2, userId: 'b', at: NOW - 2, status: 'expired' as const },
      { entryId: 'e-c', seq: 3, userId: 'c', at: NOW - 1, status: 'waitlisted' as const },
    ]
    await queue.restore(id, decided.slice(0, 2))
    // Half restored is still behind.
    expect(await queue.openDrop(gate(id, 6, 3))).toBe('behind')
    await queue.restore(id, decided)
    // Restoring twice (two instances at once) changes nothing.
    await queue.restore(id, decided)
    expect(await queue.openDrop(gate(id, 6, 3))).toBe('open')
    expect(await queue.enter(id, 'a', 'again', NOW)).toEqual({ kind: 'repeat', entry: { entryId: 'e-a', seq: 1, at: NOW - 3, status: 'won' } })
    expect(await queue.entryOf(id, 'c')).toEqual({ entryId: 'e-c', seq: 3, at: NOW - 1, status: 'waitlisted' })
    expect((await queue.enter(id, 'new', 'e-new', NOW)) as unknown).toMatchObject({ kind: 'accepted', entry: { seq: 4 } })
    expect((await queue.enter(id, 'd', 'e-d', NOW)) as unknown).toMatchObject({ kind: 'accepted', entry: { seq: 5 } })
    // Restored entries are not waiting for the allocator: only the two new ones are.
    expect(await queue.backlog(id)).toBe(2)
    const delivered = (await queue.take(id, 'A', HOUR, 10))!
    expect(delivered.map((e) => [e.seq, e.userId])).toEqual([
      [4, 'new'],
      [5, 'd'],
    ])
    await queue.settle(
      id,
      delivered.map((e) => ({ id: e.id, userId: e.userId, status: 'waitlisted' as const })),
    )
    expect(await queue.backlog(id)).toBe(0)
    expect((await queue.enter(id, 'e', 'e-e', NOW)) as unknown).toMatchObject({ kind: 'accepted', entry: { seq: 6 } })
    expect(await queue.enter(id, 'f', 'e-f', NOW)).toEqual({ kind: 'sold_out' })
  })

  test('a retired drop forgets its entries after the retention', async () => {
    const id = await openDrop(10)
    await queue.enter(id, 'a', 'e-a', NOW)
    const [entry] = (await queue.take(id, 'A', HOUR, 1))!
    await queue.settle(id, [{ id: entry!.id, userId: 'a', status: 'won' }])
    await queue.closeDrop(id)
    await queue.retireDrop(id, 50)
    await Bun.sleep(150)
    expect(await queue.entryOf(id, 'a')).toBeNull()
    expect(await queue.backlog(id)).toBe(0)
  })
})
