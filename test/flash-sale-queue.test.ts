// One contract, two adapters: the in-process queue and the Redis Streams queue must agree.
import { afterAll, describe, expect, test } from 'bun:test'
import type { FlashSaleQueue } from '../src/modules/flash-sale/queue/port'
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

  test('entries are delivered in seq order, stay pending until settled, and replay after a crash', async () => {
    const id = await openDrop(10)
    for (const user of ['a', 'b', 'c', 'd']) await queue.enter(id, user, `e-${user}`, NOW)
    const first = await queue.read(id, 3, 0)
    expect(first.map((e) => [e.seq, e.userId, e.entryId])).toEqual([
      [1, 'a', 'e-a'],
      [2, 'b', 'e-b'],
      [3, 'c', 'e-c'],
    ])
    // A successor sees the delivered-but-unsettled entries first, oldest first.
    expect((await queue.replay(id, 10)).map((e) => e.seq)).toEqual([1, 2, 3])
    await queue.settle(id, [
      { id: first[0]!.id, userId: 'a', status: 'won' },
      { id: first[1]!.id, userId: 'b', status: 'waitlisted' },
    ])
    expect((await queue.replay(id, 10)).map((e) => e.seq)).toEqual([3])
    expect(await queue.entryOf(id, 'a')).toMatchObject({ seq: 1, status: 'won' })
    expect(await queue.entryOf(id, 'b')).toMatchObject({ seq: 2, status: 'waitlisted' })
    expect((await queue.enter(id, 'a', 'again', NOW)) as unknown).toMatchObject({ kind: 'repeat', entry: { status: 'won' } })
    expect(await queue.backlog(id)).toBe(2)
    expect((await queue.read(id, 10, 0)).map((e) => e.seq)).toEqual([4])
    expect(await queue.read(id, 10, 0)).toEqual([])
    // Settling twice (a retry after a reconnect) changes nothing.
    await queue.settle(id, [{ id: first[0]!.id, userId: 'a', status: 'won' }])
    expect(await queue.backlog(id)).toBe(2)
  })

  test('a blocked read wakes up for a new entry', async () => {
    const id = await openDrop(10)
    const reading = queue.read(id, 10, 1500)
    await Bun.sleep(20)
    await queue.enter(id, 'late', 'e-late', NOW)
    expect((await reading).map((e) => e.userId)).toEqual(['late'])
  })

  test('one lease holder per drop; it renews, gives up, or lapses', async () => {
    const id = newId()
    expect(await queue.lease(id, 'A', 10_000)).toBe(true)
    expect(await queue.lease(id, 'B', 10_000)).toBe(false)
    expect(await queue.lease(id, 'A', 10_000)).toBe(true)
    await queue.unlease(id, 'B')
    expect(await queue.lease(id, 'B', 10_000)).toBe(false)
    await queue.unlease(id, 'A')
    expect(await queue.lease(id, 'B', 50)).toBe(true)
    await Bun.sleep(120)
    expect(await queue.lease(id, 'A', 10_000)).toBe(true)
    expect(await queue.lease(id, 'B', 10_000)).toBe(false)
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
    const delivered = await queue.read(id, 10, 0)
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
    const [entry] = await queue.read(id, 1, 0)
    await queue.settle(id, [{ id: entry!.id, userId: 'a', status: 'won' }])
    await queue.closeDrop(id)
    await queue.retireDrop(id, 50)
    await Bun.sleep(150)
    expect(await queue.entryOf(id, 'a')).toBeNull()
    expect(await queue.backlog(id)).toBe(0)
  })
})
