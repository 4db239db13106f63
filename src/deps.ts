import type { AppDeps } from './app'
import type { Config } from './config'
import { openDatabase } from './db/client'
import { systemClock } from './lib/clock'
import { createLogger } from './lib/logger'
import { dataKeyFrom } from './lib/crypto'
import { localFileStore } from './infra/storage/local'
import { s3FileStore } from './infra/storage/s3'
import { argon2id } from './modules/accounts/service'
import { createRedis } from './infra/redis'
import type Redis from 'ioredis'
import { Registry, collectDefaultMetrics } from 'prom-client'

/** Production wiring: real clock, configured database and stores. `close` ends the connections (after the app stopped). */
export async function createDeps(config: Config): Promise<AppDeps & { close(): Promise<void> }> {
  const logger = createLogger(config.LOG_LEVEL)
  const database = await openDatabase({
    url: config.DATABASE_URL,
    authToken: config.DATABASE_AUTH_TOKEN,
    synchronous: config.DB_SYNCHRONOUS,
    onCheckpointError: (error) => logger.warn('wal checkpoint failed', { error }),
  })
  const metrics = new Registry()
  collectDefaultMetrics({ register: metrics })
  const { REDIS_URL, REDIS_KEY_PREFIX } = config
  const previous = (config.DATA_KEYS_PREVIOUS ?? '').split(',').filter(Boolean)
  const connections: Redis[] = []
  return {
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
    redis: REDIS_URL
      ? (name) => {
          const connection = createRedis(REDIS_URL, REDIS_KEY_PREFIX, { connectionName: name })
          connections.push(connection)
          return connection
        }
      : undefined,
    async close() {
      // QUIT lets replies in flight arrive; a Redis that is down gets a plain disconnect.
      await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())))
      await database.close()
    },
  }
}
