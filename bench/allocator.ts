/**
 * How fast the flash-sale allocator drains a backlog: ENTRIES entries are queued on an open
 * drop while no allocator runs, then one allocator starts and the clock runs until every
 * entry is decided. In-process (the component, not HTTP): the queue is the shop's own,
 * on Redis when REDIS_URL is set. `bun bench/allocator.ts [--entries 50000] [--out DIR]`.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { eq, count } from 'drizzle-orm'
import { ManualClock } from '../src/lib/clock'
import { createLogger } from '../src/lib/logger'
import { newId } from '../src/lib/ids'
import { Allocator } from '../src/modules/flash-sale/allocator'
import { flashSaleEntries } from '../src/modules/flash-sale/schema'
import { users } from '../src/modules/accounts/schema'
import { startShop } from '../test/support/harness'
import { createDrop } from '../test/support/flash-sale'
import { DEFAULT_OUT } from './lib/cli'
import { benchRedis, dropRedisPrefix } from './lib/target'

export interface DrainResult {
  entries: number
  units: number
  redis: boolean
  seconds: number
  entries_per_second: number
  winners: number
  decided: number
}

const UNITS = 100

export async function measureDrain(entries: number, redisUrl?: string): Promise<DrainResult> {
  const redis = redisUrl ? benchRedis(redisUrl) : undefined
  const clock = new ManualClock(Date.now())
  const s = await startShop({ clock, redis, env: { FLASH_SALE_ALLOCATOR: 'off' } })
  try {
    const { dropId } = await createDrop(s, { units: UNITS, waitlist: entries - UNITS, stock: UNITS })
    await s.shop.services.flashSale.scheduler.tick()
    const queue = s.shop.services.flashSale.queue
    const now = clock.iso()
    const ids = Array.from({ length: entries }, () => newId())
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500).map((id) => ({ id, email: `${id}@bench.test`, name: 'Bench', passwordHash: null, roles: ['customer' as const], createdAt: now, updatedAt: now }))
      await s.database.write((tx) => tx.insert(users).values(chunk))
    }
    for (let i = 0; i < ids.length; i += 1000) {
      const results = await Promise.all(ids.slice(i, i + 1000).map((id) => queue.enter(dropId, id, newId(), clock.now())))
      if (results.some((r) => r.kind !== 'accepted')) throw new Error(`an entry was not accepted: ${JSON.stringify(results.find((r) => r.kind !== 'accepted'))}`)
    }

    const allocator = new Allocator({ database: s.database, queue, orders: s.shop.services.orderLifecycle, clock, logger: createLogger('warn') })
    const started = performance.now()
    allocator.start()
    while ((await queue.backlog(dropId)) > 0) await Bun.sleep(5)
    const seconds = (performance.now() - started) / 1000
    await allocator.stop()

    const tally = await s.database.db.select({ outcome: flashSaleEntries.outcome, n: count() }).from(flashSaleEntries).where(eq(flashSaleEntries.dropId, dropId)).groupBy(flashSaleEntries.outcome)
    const decided = tally.reduce((sum, t) => sum + t.n, 0)
    const winners = tally.find((t) => t.outcome === 'won')?.n ?? 0
    return { entries, units: UNITS, redis: Boolean(redis), seconds, entries_per_second: entries / seconds, winners, decided }
  } finally {
    await s.close()
    if (redis) await dropRedisPrefix(redis.url, redis.prefix)
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { entries: { type: 'string' }, out: { type: 'string' } } })
  const result = await measureDrain(Number(values.entries ?? 50_000), process.env.REDIS_URL)
  const out = values.out ?? DEFAULT_OUT
  mkdirSync(out, { recursive: true })
  writeFileSync(join(out, 'allocator.json'), JSON.stringify(result, null, 2))
  console.log(JSON.stringify(result, null, 2))
  process.exit(result.decided === result.entries && result.winners === UNITS ? 0 : 99)
}
