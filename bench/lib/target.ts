/**
 * What a scenario runs against: a base URL, and the fast-fixture access that goes with
 * it. Either a shop this process starts (fresh database, known secret, Redis under its
 * own prefix when REDIS_URL is set) or a running one given by `--url`, whose database
 * and secret then come from DATABASE_URL, DATABASE_AUTH_TOKEN and JWT_SECRET.
 */
import Redis from 'ioredis'
import { newId } from '../../src/lib/ids'
import { openFixtures, type FixtureSource, type Fixtures } from './fixtures'
import { spawnBaseline, spawnShop, type ShopServerOptions } from './server'

export interface Target {
  url: string
  /** True when the server keeps its queue, limiter and events in Redis. */
  redis: boolean
  /** Opened on first use, closed with the target. */
  fixtures(): Promise<Fixtures>
  close(): Promise<void>
}

function lazyFixtures(source: () => FixtureSource) {
  let opened: Promise<Fixtures> | undefined
  return {
    fixtures: () => (opened ??= openFixtures(source())),
    closeFixtures: async () => (await opened)?.close(),
  }
}

/** A shop already running (here, or deployed with its database reachable by URL). */
export function externalTarget(url: string, env: Record<string, string | undefined>): Target {
  const { fixtures, closeFixtures } = lazyFixtures(() => {
    const { DATABASE_URL, JWT_SECRET, DATABASE_AUTH_TOKEN } = env
    if (!DATABASE_URL || !JWT_SECRET) throw new Error("fast fixtures need the server's DATABASE_URL and JWT_SECRET in the environment (or -e DATABASE_URL=… -e JWT_SECRET=…)")
    return { databaseUrl: DATABASE_URL, jwtSecret: JWT_SECRET, databaseAuthToken: DATABASE_AUTH_TOKEN }
  })
  return { url: url.replace(/\/$/, ''), redis: Boolean(env.REDIS_URL), fixtures, close: closeFixtures }
}

/** Deletes every key under a prefix (the bench's own, never the machine's other data). */
export async function dropRedisPrefix(url: string, prefix: string) {
  const client = new Redis(url, { maxRetriesPerRequest: 1 })
  let cursor = '0'
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    cursor = next
    if (keys.length) await client.del(...keys)
  } while (cursor !== '0')
  client.disconnect()
}

/** The raw Bun.serve baseline: nothing to fix up, nothing to check. */
export async function baselineTarget(outDir: string): Promise<Target> {
  const server = await spawnBaseline(outDir)
  return {
    url: server.url,
    redis: false,
    fixtures: () => Promise.reject(new Error('the baseline has no database')),
    close: server.stop,
  }
}

/** A key prefix of this run's own, so the bench never touches other data on the same Redis. */
export const benchRedis = (url: string) => ({ url, prefix: `bench:${newId()}:` })

/** Starts a shop of our own for this run; stops it (and clears its Redis keys) on close. */
export async function ownTarget(outDir: string, redis?: { url: string; prefix: string }, tuning?: Pick<ShopServerOptions, 'bunFlags' | 'env'>): Promise<Target> {
  const server = await spawnShop({ outDir, redis, ...tuning })
  const { fixtures, closeFixtures } = lazyFixtures(() => ({ databaseUrl: server.databaseUrl, jwtSecret: server.jwtSecret }))
  return {
    url: server.url,
    redis: Boolean(redis),
    fixtures,
    async close() {
      await closeFixtures()
      await server.stop()
      if (redis) await dropRedisPrefix(redis.url, redis.prefix)
    },
  }
}
