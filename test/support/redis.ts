import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect } from 'bun:test'
import Redis from 'ioredis'
import { createRedis, whenReady } from '../../src/infra/redis'
import { newId } from '../../src/lib/ids'

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/**
 * The machine's real Redis with a key prefix of this test's own. Throws (the test fails,
 * loudly) when Redis is not there: Redis tests never skip.
 */
export async function testRedis() {
  const prefix = `test:${newId()}:`
  const probe = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  try {
    await probe.connect()
    await probe.ping()
  } catch (error) {
    throw new Error(`These tests need Redis at ${TEST_REDIS_URL} (start it: redis-server --daemonize yes): ${error}`)
  }
  return {
    url: TEST_REDIS_URL,
    prefix,
    /** Deletes every key under this test's prefix. */
    async cleanup() {
      let cursor = '0'
      do {
        const [next, keys] = await probe.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
        cursor = next
        if (keys.length) await probe.del(...keys)
      } while (cursor !== '0')
      probe.disconnect()
    },
  }
}

/** Connections to the test's own prefix of the real Redis, all closed (and the keys deleted) after the file. */
export async function testRedisClients() {
  const redis = await testRedis()
  const connections: Redis[] = []
  afterAll(async () => {
    for (const c of connections) c.disconnect()
    await redis.cleanup()
  })
  return async () => {
    const client = createRedis(redis.url, redis.prefix)
    connections.push(client)
    expect(await whenReady(client)).toBe(true)
    return client
  }
}

/**
 * A redis-server of the test's own, on a free port with its own directory, that the test
 * kills (`kill -9`) and starts again on the same files. No RDB snapshots; an append-only
 * file only when `appendfsync` is given (`always`: Redis answers a write once it is on disk).
 */
export function ownRedis({ appendfsync }: { appendfsync?: 'always' | 'everysec' | 'no' } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'shop-redis-'))
  const probe = Bun.serve({ port: 0, fetch: () => new Response() })
  const port = probe.port!
  probe.stop(true)
  const persistence = appendfsync ? ['--appendonly', 'yes', '--appendfsync', appendfsync] : ['--appendonly', 'no']
  let server: ReturnType<typeof Bun.spawn> | undefined
  return {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      server = Bun.spawn(['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir], { stdout: 'ignore', stderr: 'inherit' })
      for (let i = 0; i < 100; i++) {
        const ping = Bun.spawnSync(['redis-cli', '-p', String(port), 'ping'])
        if (ping.stdout.toString().trim() === 'PONG') return
        await Bun.sleep(50)
      }
      throw new Error(`redis-server did not start on port ${port}`)
    },
    /** SIGKILL: no shutdown save, no final fsync; what was not on disk is gone. */
    async stop() {
      server?.kill('SIGKILL')
      await server?.exited
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }
}
