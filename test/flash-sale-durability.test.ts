// "202 means it survives a Redis crash": entries accepted while the allocator is held off,
// Redis killed with SIGKILL mid-stampede and started again on its own files, then the
// allocator runs. With appendonly yes + appendfsync always every acknowledged entry is
// decided exactly once with its seq; with appendonly no they are lost (the test can fail).
import { afterEach, expect, test } from 'bun:test'
import Redis from 'ioredis'
import { count, eq, inArray } from 'drizzle-orm'
import { startShop, type TestShop } from './support/harness'
import { ownRedis } from './support/redis'
import { createDrop, decidedCount, entriesOf, until } from './support/flash-sale'
import { orders } from '../src/modules/orders/schema'
import { products } from '../src/modules/catalog/schema'
import { createLogger } from '../src/lib/logger'
import { createRedis, whenReady } from '../src/infra/redis'
import { checkDurability } from '../src/infra/redis-durability'

const UNITS = 60
const BUYERS = 300
const PREFIX = 'durable:'

const cleanups: (() => Promise<void> | void)[] = []
// Every cleanup runs even when one throws: a redis-server or allocator left running would outlive the suite.
afterEach(async () => {
  const failures: unknown[] = []
  for (const cleanup of cleanups.splice(0).reverse())
    await Promise.resolve()
      .then(cleanup)
      .catch((error) => failures.push(error))
  if (failures.length) throw failures[0]
})

function spawnAllocator(s: TestShop, redisUrl: string) {
  const allocator = Bun.spawn(['bun', 'test/support/allocator-process.ts'], {
    env: { ...process.env, DATABASE_URL: s.config.DATABASE_URL, REDIS_URL: redisUrl, REDIS_PREFIX: PREFIX, PAUSE_MS: '0' },
    stdout: 'ignore',
    stderr: 'inherit',
  })
  cleanups.push(async () => {
    allocator.kill('SIGKILL')
    await allocator.exited
  })
}

/** A stampede on a drop nobody allocates yet; Redis is killed once `killAfter` entries were acknowledged, and started again. */
async function stampedeThroughACrash(appendfsync: 'always' | undefined, killAfter: number) {
  const redis = ownRedis({ appendfsync })
  await redis.start()
  cleanups.push(redis.cleanup, () => redis.stop())
  const s = await startShop({ redis: { url: redis.url, prefix: PREFIX }, env: { FLASH_SALE_ALLOCATOR: 'off' } })
  cleanups.push(() => s.close())
  const { dropId, product } = await createDrop(s, { units: UNITS, waitlist: BUYERS - UNITS })
  await s.shop.services.flashSale.scheduler.tick()
  const buyers = await Promise.all(Array.from({ length: BUYERS }, () => s.createUser()))

  const acknowledged = new Map<string, number>()
  let killed: Promise<void> | undefined
  await Promise.all(
    buyers.map(async (buyer, i) => {
      await Bun.sleep(i % 50)
      const res = await s.request('POST', `/v1/flash-sales/drops/${dropId}/entries`, { token: buyer.token }).catch(() => undefined)
      if (res?.status !== 202) return
      acknowledged.set(buyer.id, res.body.seq)
      if (acknowledged.size === killAfter) killed = redis.stop()
    }),
  )
  await killed
  expect(acknowledged.size).toBeGreaterThanOrEqual(killAfter)
  await redis.start()
  // The shop's connections find the restarted Redis by themselves.
  await until('the shop reconnected', async () => (await s.request('GET', '/ready')).status === 200)
  // Every request was answered before the restart, so what Redis holds now is all there will be.
  const held = new Redis(redis.url, { keyPrefix: PREFIX })
  cleanups.push(() => held.disconnect())
  const entriesHeld = Number(await held.get(`fs:{${dropId}}:seq`))
  spawnAllocator(s, redis.url)
  return { s, dropId, product, acknowledged, entriesHeld }
}

test('appendonly yes, appendfsync always: every acknowledged entry is decided exactly once with its seq, nothing oversold', async () => {
  const { s, dropId, product, acknowledged, entriesHeld } = await stampedeThroughACrash('always', 120)
  // Entries whose answer the kill cut off may be there too: the allocator decides every one Redis kept.
  expect(entriesHeld).toBeGreaterThanOrEqual(acknowledged.size)
  await until(`the allocator decided all ${entriesHeld} entries`, async () => (await decidedCount(s, dropId)) >= entriesHeld, 30_000)
  const rows = await entriesOf(s, dropId)
  const decided = new Map(rows.map((r) => [r.userId, r.seq]))
  // Each acknowledged entry, with the very seq it was answered.
  for (const [userId, seq] of acknowledged) expect({ userId, seq: decided.get(userId) }).toEqual({ userId, seq })
  // Exactly once: one row per customer, seqs contiguous from 1 (no seq handed out twice).
  expect(new Set(rows.map((r) => r.userId)).size).toBe(rows.length)
  expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: rows.length }, (_, i) => i + 1))
  // Nothing oversold: winners are the first seqs, at most the units, one order each, stock never below 0.
  const winners = rows.filter((r) => r.outcome === 'won')
  expect(winners.length).toBe(Math.min(UNITS, rows.length))
  expect(winners.every((w) => w.seq <= UNITS)).toBe(true)
  const made = await s.database.db
    .select({ n: count() })
    .from(orders)
    .where(
      inArray(
        orders.userId,
        winners.map((w) => w.userId),
      ),
    )
    .get()
  expect(made!.n).toBe(winners.length)
  const stock = await s.database.db.select({ stock: products.stock }).from(products).where(eq(products.id, product.id)).get()
  expect(stock!.stock).toBeGreaterThanOrEqual(0)
}, 90_000)

test('appendonly no: the same crash loses acknowledged entries (what the durability setting is for)', async () => {
  const { s, dropId, acknowledged } = await stampedeThroughACrash(undefined, 60)
  // Given the allocator time to find anything at all, what it decides falls short of what was acknowledged.
  await Bun.sleep(3000)
  const rows = await entriesOf(s, dropId)
  const lost = [...acknowledged].filter(([userId, seq]) => !rows.some((r) => r.userId === userId && r.seq === seq))
  expect(lost.length).toBeGreaterThan(0)
}, 90_000)

test('the start-up check: require refuses a Redis without appendfsync always, or one that will not say; warn logs; a durable one passes', async () => {
  const logged: unknown[] = []
  const logger = { ...createLogger('silent'), warn: (msg: string, fields: unknown) => void logged.push({ msg, fields }) }
  const plain = ownRedis()
  const durable = ownRedis({ appendfsync: 'always' })
  const everysec = ownRedis({ appendfsync: 'everysec' })
  for (const r of [plain, durable, everysec]) {
    await r.start()
    cleanups.push(r.cleanup, () => r.stop())
  }
  const connect = async (url: string) => {
    const c = createRedis(url, '')
    cleanups.push(() => c.disconnect())
    await whenReady(c)
    return c
  }
  await expect(checkDurability(await connect(plain.url), 'require', logger)).rejects.toMatchObject({ name: 'StartupError', problems: [{ setting: 'REDIS_DURABILITY' }] })
  await expect(checkDurability(await connect(everysec.url), 'require', logger)).rejects.toThrow(/appendfsync everysec/)
  await checkDurability(await connect(durable.url), 'require', logger)
  await checkDurability(await connect(plain.url), 'warn', logger)
  expect(logged).toEqual([{ msg: 'redis durability', fields: expect.objectContaining({ setting: 'REDIS_DURABILITY', problem: expect.stringContaining('appendonly no') }) }])
  // A managed Redis that refuses CONFIG (renamed away): unknown, so refused only under require.
  const managed = await connect(durable.url)
  await managed.call('ACL', 'SETUSER', 'default', '-config')
  await expect(checkDurability(managed, 'require', logger)).rejects.toThrow(/cannot tell/)
  await checkDurability(managed, 'off', logger)
})
