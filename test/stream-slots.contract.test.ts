import { beforeAll, describe, expect, test } from 'bun:test'
import type { StreamSlots } from '../src/infra/stream-slots'
import { memoryStreamSlots } from '../src/infra/stream-slots/memory'
import { redisStreamSlots } from '../src/infra/stream-slots/redis'
import { testRedisClients } from './support/redis'

const connect = await testRedisClients()

const T0 = Date.parse('2026-11-27T12:00:00Z')
const LEASE_MS = 60_000
let n = 0
const owner = () => `user-${++n}`

// Both adapters, through one contract: what passes here holds for one instance and for many.
const adapters: [string, () => Promise<StreamSlots>][] = [
  ['memory', async () => memoryStreamSlots(LEASE_MS)],
  ['redis', async () => redisStreamSlots(await connect(), LEASE_MS)],
]

describe.each(adapters)('%s stream slots', (_name, make) => {
  let slots: StreamSlots
  beforeAll(async () => {
    slots = await make()
  })

  test('takes up to the limit, then refuses; a release frees one', async () => {
    const user = owner()
    for (let i = 0; i < 3; i++) expect(await slots.take(user, `s${i}`, 3, T0)).toBe(true)
    expect(await slots.take(user, 's3', 3, T0)).toBe(false)
    await slots.release(user, 's1')
    expect(await slots.take(user, 's3', 3, T0)).toBe(true)
    expect(await slots.take(user, 's4', 3, T0)).toBe(false)
  })

  test('owners are counted apart', async () => {
    const [a, b] = [owner(), owner()]
    expect(await slots.take(a, 'x', 1, T0)).toBe(true)
    expect(await slots.take(b, 'x', 1, T0)).toBe(true)
    expect(await slots.take(a, 'y', 1, T0)).toBe(false)
  })

  test('a slot nobody renewed frees itself after its lease (an instance that died); a renewed one holds', async () => {
    const user = owner()
    expect(await slots.take(user, 'renewed', 2, T0)).toBe(true)
    expect(await slots.take(user, 'abandoned', 2, T0)).toBe(true)
    await slots.renew(user, 'renewed', T0 + LEASE_MS - 1)
    expect(await slots.take(user, 'late', 2, T0 + LEASE_MS - 1)).toBe(false)
    expect(await slots.take(user, 'late', 2, T0 + LEASE_MS)).toBe(true)
    expect(await slots.take(user, 'later', 2, T0 + LEASE_MS)).toBe(false)
  })

  test('renewing or releasing a slot that is not held changes nothing', async () => {
    const user = owner()
    await slots.renew(user, 'ghost', T0)
    await slots.release(user, 'ghost')
    expect(await slots.take(user, 'real', 1, T0)).toBe(true)
    expect(await slots.take(user, 'other', 1, T0)).toBe(false)
  })
})

test('two Redis clients (two instances) share the count', async () => {
  const [a, b] = [redisStreamSlots(await connect(), LEASE_MS), redisStreamSlots(await connect(), LEASE_MS)]
  const user = owner()
  expect(await a.take(user, 'a1', 2, T0)).toBe(true)
  expect(await b.take(user, 'b1', 2, T0)).toBe(true)
  expect(await a.take(user, 'a2', 2, T0)).toBe(false)
  await b.release(user, 'b1')
  expect(await a.take(user, 'a2', 2, T0)).toBe(true)
})
