import { beforeAll, describe, expect, test } from 'bun:test'
import type { Limiter } from '../src/infra/limiter'
import { memoryLimiter } from '../src/infra/limiter/memory'
import { redisLimiter } from '../src/infra/limiter/redis'
import { testRedisClients } from './support/redis'

const connect = await testRedisClients()

const T0 = Date.parse('2026-11-27T12:00:00Z')
let n = 0
const bucket = (limit: number, windowMs: number) => ({ key: `bucket-${++n}`, limit, windowMs })

const adapters: [string, () => Promise<Limiter>][] = [
  ['memory', async () => memoryLimiter()],
  ['redis', async () => redisLimiter(await connect())],
]

describe.each(adapters)('%s limiter', (_name, make) => {
  let limiter: Limiter
  beforeAll(async () => {
    limiter = await make()
  })

  test('allows the limit at once, then refuses with the wait until the next token', async () => {
    const b = bucket(5, 60_000)
    const remaining: number[] = []
    for (let i = 0; i < 5; i++) {
      const d = await limiter.take([b], T0)
      expect(d).toMatchObject({ allowed: true, limit: 5, retryAfterMs: 0 })
      remaining.push(d.remaining)
    }
    expect(remaining).toEqual([4, 3, 2, 1, 0])
    const refused = await limiter.take([b], T0)
    expect(refused).toMatchObject({ allowed: false, limit: 5, remaining: 0, retryAfterMs: 12_000, resetMs: 60_000 })
  })

  test('recovers one token per interval, and fully after the window', async () => {
    const b = bucket(4, 40_000)
    for (let i = 0; i < 4; i++) await limiter.take([b], T0)
    expect((await limiter.take([b], T0 + 9_999)).allowed).toBe(false)
    expect(await limiter.take([b], T0 + 10_000)).toMatchObject({ allowed: true, remaining: 0 })
    expect((await limiter.take([b], T0 + 10_001)).allowed).toBe(false)
    expect(await limiter.take([b], T0 + 60_000)).toMatchObject({ allowed: true, remaining: 3 })
  })

  test('keys are counted apart', async () => {
    const a = bucket(1, 60_000)
    const b = { ...a, key: `${a.key}-other` }
    expect((await limiter.take([a], T0)).allowed).toBe(true)
    expect((await limiter.take([a], T0)).allowed).toBe(false)
    expect((await limiter.take([b], T0)).allowed).toBe(true)
  })

  test('several buckets: all charged or none, the tightest one speaks', async () => {
    const wide = bucket(10, 60_000)
    const narrow = bucket(2, 60_000)
    expect(await limiter.take([wide, narrow], T0)).toMatchObject({ allowed: true, limit: 2, remaining: 1 })
    expect((await limiter.take([wide, narrow], T0)).allowed).toBe(true)
    expect(await limiter.take([wide, narrow], T0)).toMatchObject({ allowed: false, limit: 2, remaining: 0 })
    // The refused calls charged nothing to the wide bucket: 8 of 10 are left.
    expect(await limiter.take([wide], T0)).toMatchObject({ allowed: true, limit: 10, remaining: 7 })
  })

  test('racing callers never get more than the limit', async () => {
    const b = bucket(10, 60_000)
    const decisions = await Promise.all(Array.from({ length: 100 }, () => limiter.take([b], T0)))
    expect(decisions.filter((d) => d.allowed)).toHaveLength(10)
  })
})

test('two Redis limiters (two instances) share one count', async () => {
  const first = redisLimiter(await connect())
  const second = redisLimiter(await connect())
  const b = bucket(6, 60_000)
  const decisions = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? first : second).take([b], T0)))
  expect(decisions.filter((d) => d.allowed)).toHaveLength(6)
})

test('Redis keeps a bucket only as long as it matters (expiry)', async () => {
  const client = await connect()
  const b = bucket(3, 3_000)
  await redisLimiter(client).take([b], T0)
  const ttl = await client.pttl(b.key)
  expect(ttl).toBeGreaterThan(0)
  expect(ttl).toBeLessThanOrEqual(1_000)
})
