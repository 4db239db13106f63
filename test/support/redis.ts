import Redis from 'ioredis'
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
