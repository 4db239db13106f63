import type Redis from 'ioredis'
import type { Limiter } from '.'

/**
 * The GCRA of memory.ts over every bucket at once, atomically: all buckets are charged or
 * none. KEYS are the buckets; ARGV = now, then limit and window (ms) per key. Returns
 * allowed, limit, remaining, reset and retry-after (ms) as integers. The clock comes from
 * the caller so tests can move it; instances' clocks only need to agree roughly.
 */
const SCRIPT = `
local now = tonumber(ARGV[1])
local n = #KEYS
local tats, news = {}, {}
local allowed, tightest, tightRemaining, retry, fullAt = 1, 1, nil, 0, now
for i = 1, n do
  local limit, window = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local interval = window / limit
  local stored = tonumber(redis.call('GET', KEYS[i]) or now)
  local tat = math.max(stored, now) + interval
  local allowAt = tat - window
  local remaining = 0
  if now < allowAt then
    allowed = 0
    retry = math.max(retry, allowAt - now)
  else
    remaining = math.floor((window - (tat - now)) / interval)
  end
  tats[i], news[i] = stored, tat
  if tightRemaining == nil or remaining < tightRemaining then tightest, tightRemaining = i, remaining end
end
for i = 1, n do
  if allowed == 1 then
    redis.call('SET', KEYS[i], string.format('%.3f', news[i]), 'PX', math.max(1, math.ceil(news[i] - now)))
    fullAt = math.max(fullAt, news[i])
  else
    fullAt = math.max(fullAt, tats[i])
  end
end
if allowed == 0 then tightRemaining = 0 end
return { allowed, tonumber(ARGV[2 * tightest]), tightRemaining, math.ceil(fullAt - now), math.ceil(retry) }
`

type RateLimitCommand = (numKeys: number, ...args: (string | number)[]) => Promise<[number, number, number, number, number]>

/** Shared counts for every instance on one Redis: one round trip (auto-pipelined) per request. */
export function redisLimiter(redis: Redis): Limiter {
  redis.defineCommand('shopRateLimit', { lua: SCRIPT })
  const command = (redis as unknown as { shopRateLimit: RateLimitCommand }).shopRateLimit.bind(redis)
  return {
    async take(checks, now) {
      const args = checks.flatMap((c) => [c.limit, c.windowMs])
      const [allowed, limit, remaining, resetMs, retryAfterMs] = await command(checks.length, ...checks.map((c) => c.key), now, ...args)
      return { allowed: allowed === 1, limit, remaining, resetMs, retryAfterMs }
    },
  }
}
