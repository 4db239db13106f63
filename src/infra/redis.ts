import Redis, { type RedisOptions } from 'ioredis'

/**
 * One Redis connection with the settings hot paths need: auto-pipelining (many callers,
 * few round trips), a command timeout and no unbounded offline queue, so a Redis outage
 * turns into fast errors (503) instead of hung requests. Blocking readers (XREADGROUP
 * BLOCK) must get their own connection: a blocked command stalls every other one.
 */
export function createRedis(url: string, keyPrefix: string, overrides: RedisOptions = {}) {
  return new Redis(url, {
    keyPrefix,
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 2000,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    lazyConnect: false,
    ...overrides,
  })
}
