import Redis, { type RedisOptions } from 'ioredis'

/**
 * One Redis connection with the settings hot paths need: auto-pipelining (many callers,
 * few round trips), a command timeout and no unbounded offline queue, so a Redis outage
 * turns into fast errors (503) instead of hung requests. Blocking readers (XREADGROUP
 * BLOCK) must get their own connection: a blocked command stalls every other one.
 */
export function createRedis(url: string, keyPrefix: string, overrides: RedisOptions = {}) {
  const redis = new Redis(url, {
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
  // Without a listener ioredis prints every failed reconnect of every connection to stderr
  // (dozens of lines a second while Redis is down); deps.ts logs outages once a minute.
  redis.on('error', () => undefined)
  return redis
}

/**
 * Without an offline queue, commands sent before the connection is ready fail at once:
 * await this in a start-up step before serving. Gives up quietly after `timeoutMs` so a
 * Redis that is down at boot does not stop the service from starting (`/ready` says 503).
 */
export function whenReady(redis: Redis, timeoutMs = 5000): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true)
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer)
      redis.off('ready', onReady)
      resolve(ready)
    }
    const onReady = () => done(true)
    const timer = setTimeout(() => done(false), timeoutMs)
    redis.once('ready', onReady)
  })
}

const OUTAGE_MESSAGES = ['Command timed out', 'Connection is closed.', "Stream isn't writeable", 'connect ETIMEDOUT', 'connect ECONNREFUSED']

/** True for the errors ioredis raises when Redis cannot be reached in time (not for a bad command). */
export function isRedisOutage(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  if (error.name === 'MaxRetriesPerRequestError') return true
  return OUTAGE_MESSAGES.some((m) => error.message.startsWith(m))
}
