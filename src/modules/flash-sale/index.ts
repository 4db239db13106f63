import type { Registry } from 'prom-client'
import type { Database } from '../../db/client'
import type { EventBus } from '../../infra/events'
import type { FlashSaleQueue } from './queue/port'
import type { Clock } from '../../lib/clock'
import type { Logger } from '../../lib/logger'
import type { Worker } from '../../lib/worker'
import type { OrderLifecycle } from '../orders'
import { releaseWinner } from './drop-lifecycle'
import { Allocator } from './allocator'
import { EntryEvents } from './events'
import { FlashSaleMetrics } from './metrics'
import { DropSchedule } from './schedule'
import { DropScheduler } from './scheduler'
import { FlashSaleService } from './service'
import { Campaigns } from './campaigns'

export { flashSaleRoutes } from './routes'

export interface FlashSaleModuleDeps {
  database: Database
  clock: Clock
  logger: Logger
  metrics: Registry
  /** In-process, or Redis Streams when instances share the work (chosen in deps.ts). */
  queue: FlashSaleQueue
  orders: OrderLifecycle
  events: EventBus
  /** False leaves allocation to other instances (or a dedicated allocator process). */
  runAllocator: boolean
  /** False in a worker of WORKERS=N other than worker 0: worker 0 runs the scheduler (and the allocator) for the instance. */
  background?: boolean
}

/**
 * The flash sale's parts, wired over the queue it is given: the schedule cache, the service,
 * the scheduler and allocator workers, and the release handler of `flash_sale` orders.
 */
export function createFlashSale(deps: FlashSaleModuleDeps) {
  const { database, clock, logger, orders, queue } = deps
  const schedule = new DropSchedule(database)
  const depths = (): Promise<[string, number][]> => Promise.all(scheduler.openDrops.map(async (id) => [id, await queue.backlog(id)]))
  const metrics = new FlashSaleMetrics(deps.metrics, depths)
  const service = new FlashSaleService({ database, clock, queue, schedule, metrics })
  const campaigns = new Campaigns({ database, clock, schedule })
  const changes = new EntryEvents({ events: deps.events, logger, entryOf: (userId, dropId) => service.myEntry(userId, dropId), dropOfOrder: (id) => service.dropOfOrder(id) })
  const scheduler = new DropScheduler({ database, queue, clock, logger, schedule, changes })
  const winners = { orders }
  orders.onRelease('flash_sale', (tx, order, at) => releaseWinner(tx, winners, order, at))

  const workers: Worker[] = [{ start() {}, stop: () => queue.disconnect() }]
  // Without the scheduler (which loads it), the entry route's schedule still starts known.
  if (deps.background === false) workers.push({ start: () => schedule.load(), stop() {} })
  else workers.push(scheduler)
  if (deps.runAllocator && deps.background !== false) workers.push(new Allocator({ ...winners, database, queue, clock, logger, metrics, changes }))
  return { service, campaigns, changes, scheduler, queue, workers }
}
