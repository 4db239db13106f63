import type Redis from 'ioredis'
import { Registry, collectDefaultMetrics } from 'prom-client'
import type { Config } from './config'
import { openDatabase, type Database } from './db/client'
import { databaseStartupError } from './startup'
import { systemClock, type Clock } from './lib/clock'
import { createLogger, type Logger } from './lib/logger'
import { dataKeyFrom, type DataKey } from './lib/crypto'
import type { FileStore } from './infra/storage'
import { localFileStore } from './infra/storage/local'
import { s3FileStore } from './infra/storage/s3'
import { createRedis, whenReady } from './infra/redis'
import { workerChannel, type MetricsExposition } from './infra/workers'
import { checkDurability, type RedisDurability } from './infra/redis-durability'
import type { EventBus } from './infra/events'
import { memoryEventBus } from './infra/events/memory'
import { redisEventBus } from './infra/events/redis'
import type { Limiter } from './infra/limiter'
import { memoryLimiter } from './infra/limiter/memory'
import { redisLimiter } from './infra/limiter/redis'
import type { StreamSlots } from './infra/stream-slots'
import { memoryStreamSlots } from './infra/stream-slots/memory'
import { redisStreamSlots } from './infra/stream-slots/redis'
import { argon2id, type PasswordHashing } from './modules/accounts'
import type { ProductTypes } from './modules/catalog'
import type { FlashSaleQueue } from './modules/flash-sale/queue/port'
import { memoryQueue } from './modules/flash-sale/queue/memory'
import { redisQueue } from './modules/flash-sale/queue/redis'
import type { Probe } from './modules/ops'

/**
 * The ports whose state instances share: in-process adapters for a single instance, Redis
 * ones when several share the work. Chosen here only (`adapters`); the app never asks which.
 */
export interface Adapters {
  events: EventBus
  limiter: Limiter
  /** Open event streams per user. */
  streamSlots: StreamSlots
  flashSaleQueue: FlashSaleQueue
  /** What `/ready` checks besides the database and the files: Redis, when there is one. */
  probes: Probe[]
  /**
   * Start-up step: waits for the Redis connections (commands sent earlier fail at once).
   * Gives up after a few seconds with a warning: a Redis that is down at boot does not stop
   * the service from starting (`/ready` says 503).
   */
  whenReady(): Promise<void>
}

/** Everything the app needs from outside; tests pass their own database, clock and stores. */
export interface AppDeps extends Adapters {
  config: Config
  database: Database
  clock: Clock
  logger: Logger
  files: FileStore
  dataKeys: DataKey[]
  passwords: PasswordHashing
  /** Prometheus registry every module registers its metrics on (served at /metrics). */
  metrics: Registry
  /** What /metrics serves when not `metrics` alone: under WORKERS=N, every worker's registry merged. */
  exposition?: MetricsExposition
  /**
   * Whether this process runs the instance's background work (scheduler, allocator, jobs,
   * key sweeper, webhooks owed, the configured admin): true unless it is a worker of
   * WORKERS=N other than worker 0. Default true.
   */
  background?: boolean
  /** Product types the catalog accepts (book, generic); a deployment or test may register more. */
  productTypes?: ProductTypes
}

/**
 * The adapters of the shared ports: Redis ones over connections from `connect` (key prefix
 * applied; one call, one connection), in-process ones without it. Blocking readers and
 * pub/sub subscribers get connections of their own; whoever gave `connect` closes them.
 */
export function adapters(logger: Logger, connect?: (name: string) => Redis, durability: RedisDurability = 'warn'): Adapters {
  const onEventError = (error: unknown) => logger.error('event listener failed', { error: String(error) })
  if (!connect) return { events: memoryEventBus(onEventError), limiter: memoryLimiter(), streamSlots: memoryStreamSlots(), flashSaleQueue: memoryQueue(), probes: [], async whenReady() {} }
  const events = redisEventBus(connect('events-publisher'), connect('events-subscriber'), onEventError)
  const edge = connect('edge')
  let lastErrorLog = 0
  edge.on('error', (error) => {
    // ioredis reports every failed reconnect; one line a minute says enough.
    if (Date.now() - lastErrorLog < 60_000) return
    lastErrorLog = Date.now()
    logger.warn('redis connection error', { error: String(error) })
  })
  // The allocator blocks on its own connection; entries use the other one.
  const queueConnections = [connect('flash-sale'), connect('flash-sale-allocator')] as const
  return {
    events,
    limiter: redisLimiter(edge),
    streamSlots: redisStreamSlots(edge),
    flashSaleQueue: redisQueue(...queueConnections),
    probes: [{ name: 'redis', check: async () => void (await edge.ping()) }],
    async whenReady() {
      const ready = await Promise.all([edge, ...queueConnections].map((connection) => whenReady(connection)))
      // Serving degraded beats a crash loop: a Redis blip during a deploy must not stop every machine.
      if (!ready.every(Boolean)) {
        logger.warn('redis unreachable at start-up; serving degraded until it answers', { setting: 'REDIS_URL', effect: 'login and register answer 503, /ready answers 503, other routes serve' })
        return
      }
      await checkDurability(edge, durability, logger)
    },
  }
}

/**
 * Production wiring: real clock, configured database and stores. `close` ends the connections
 * (after the app stopped). `worker`: this process's index under WORKERS=N (the primary has
 * migrated; worker 0 checkpoints and runs the background work; /metrics asks the primary).
 */
export async function createDeps(config: Config, worker?: number) {
  const logger = createLogger(config.LOG_LEVEL)
  const background = worker === undefined || worker === 0
  const database = await openDatabase({
    url: config.DATABASE_URL,
    authToken: config.DATABASE_AUTH_TOKEN,
    synchronous: config.DB_SYNCHRONOUS,
    onCheckpointError: (error) => logger.warn('wal checkpoint failed', { error }),
    migrate: worker === undefined,
    checkpoints: background,
  }).catch((error: unknown) => {
    throw databaseStartupError(config, error)
  })
  const metrics = new Registry()
  collectDefaultMetrics({ register: metrics })
  const channel = worker === undefined ? undefined : workerChannel(metrics)
  const { REDIS_URL, REDIS_KEY_PREFIX } = config
  const previous = (config.DATA_KEYS_PREVIOUS ?? '').split(',').filter(Boolean)
  const connections: Redis[] = []
  const connect = (url: string) => (name: string) => {
    const connection = createRedis(url, REDIS_KEY_PREFIX, { connectionName: name })
    connections.push(connection)
    return connection
  }
  const deps: AppDeps & { channel?: typeof channel; close(): Promise<void> } = {
    config,
    database,
    clock: systemClock,
    logger,
    files: config.S3_BUCKET
      ? s3FileStore({
          bucket: config.S3_BUCKET,
          endpoint: config.S3_ENDPOINT,
          region: config.S3_REGION,
          accessKeyId: config.S3_ACCESS_KEY_ID,
          secretAccessKey: config.S3_SECRET_ACCESS_KEY,
        })
      : localFileStore(config.UPLOAD_DIR),
    dataKeys: [config.DATA_KEY, ...previous].map(dataKeyFrom),
    passwords: argon2id(),
    metrics,
    exposition: channel?.instance,
    background,
    /** The primary's channel, when this process is one of its workers. */
    channel,
    ...adapters(logger, REDIS_URL ? connect(REDIS_URL) : undefined, config.REDIS_DURABILITY),
    async close() {
      // QUIT lets replies in flight arrive; a Redis that is down gets a plain disconnect.
      await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())))
      await database.close()
    },
  }
  return deps
}
