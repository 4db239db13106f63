import type Redis from 'ioredis'
import { SLOT_LEASE_MS, type StreamSlots } from '.'

/**
 * A sorted set per owner: slot ids scored by when their lease ends. Taking drops the expired
 * ones, counts the rest and adds the slot, in one script (atomic across instances). KEYS[1]
 * the owner's set; ARGV = slot, limit, now, lease (ms).
 */
const TAKE = `
local now = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`

type TakeCommand = (key: string, slot: string, limit: number, now: number, leaseMs: number) => Promise<number>

const keyOf = (owner: string) => `streams:${owner}`

/** Counts shared by every instance on one Redis. */
export function redisStreamSlots(redis: Redis, leaseMs = SLOT_LEASE_MS): StreamSlots {
  redis.defineCommand('shopTakeStreamSlot', { numberOfKeys: 1, lua: TAKE })
  const take = (redis as unknown as { shopTakeStreamSlot: TakeCommand }).shopTakeStreamSlot.bind(redis)
  return {
    async take(owner, slot, limit, now) {
      return (await take(keyOf(owner), slot, limit, now, leaseMs)) === 1
    },
    async renew(owner, slot, now) {
      await redis
        .multi()
        .zadd(keyOf(owner), 'XX', now + leaseMs, slot)
        .pexpire(keyOf(owner), leaseMs)
        .exec()
    },
    async release(owner, slot) {
      await redis.zrem(keyOf(owner), slot)
    },
  }
}
