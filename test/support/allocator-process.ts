// Only the flash-sale allocator, as its own process, against a shared database file and Redis
// prefix: the crash test kills it with SIGKILL in the middle of a batch. It pauses around each
// write transaction so the kill lands between reading, committing and acknowledging entries.
import { openDatabase, type Database } from '../../src/db/client'
import { memoryEventBus } from '../../src/infra/events/memory'
import { redisQueue } from '../../src/modules/flash-sale/queue/redis'
import { createRedis, whenReady } from '../../src/infra/redis'
import { systemClock } from '../../src/lib/clock'
import { createLogger } from '../../src/lib/logger'
import { Allocator } from '../../src/modules/flash-sale/allocator'
import { OrderLifecycle } from '../../src/modules/orders/lifecycle'

const env = (name: string) =>
  process.env[name] ??
  (() => {
    throw new Error(`${name} is required`)
  })()
const pauseMs = Number(process.env.PAUSE_MS ?? 20)

const database = await openDatabase({ url: env('DATABASE_URL') })
const slow: Database = {
  ...database,
  db: database.db,
  async write(fn) {
    await Bun.sleep(pauseMs)
    const result = await database.write(fn)
    await Bun.sleep(pauseMs)
    return result
  },
}
const connections = [createRedis(env('REDIS_URL'), env('REDIS_PREFIX')), createRedis(env('REDIS_URL'), env('REDIS_PREFIX'))] as const
await Promise.all(connections.map((c) => whenReady(c)))
const logger = createLogger('silent')
const orders = new OrderLifecycle({ database: slow, events: memoryEventBus(() => {}), logger })
const allocator = new Allocator({ database: slow, queue: redisQueue(...connections), orders, clock: systemClock, logger, leaseMs: 1000, batchSize: 10 })
allocator.start()
process.stdout.write('allocating\n')
