import { Elysia } from 'elysia'
import type Redis from 'ioredis'
import type { Registry } from 'prom-client'
import type { Config } from '../config'
import type { Clock } from '../lib/clock'
import type { Logger } from '../lib/logger'
import { parseRate } from '../lib/rates'
import { trustedProxies } from '../lib/client-ip'
import { memoryLimiter } from '../infra/limiter/memory'
import { redisLimiter } from '../infra/limiter/redis'
import { whenReady } from '../infra/redis'
import type { Probe } from '../modules/ops/routes'
import { telemetry } from './telemetry'
import { securityHeaders } from './security-headers'
import { rateLimit } from './rate-limit'

export interface EdgeOptions {
  config: Config
  clock: Clock
  logger: Logger
  metrics: Registry
  redis?: (name: string) => Redis
  docsPath: string
}

/**
 * What faces the internet before any route runs: request log and metrics, security
 * headers and CORS, rate limits (shared through Redis when configured). Also the Redis
 * readiness probe and a start-up step that waits for the connection.
 */
export function edge({ config, clock, logger, metrics, redis, docsPath }: EdgeOptions) {
  const connection = redis?.('edge')
  let lastErrorLog = 0
  connection?.on('error', (error) => {
    // ioredis reports every failed reconnect; one line a minute says enough.
    if (Date.now() - lastErrorLog < 60_000) return
    lastErrorLog = Date.now()
    logger.warn('redis connection error', { error: String(error) })
  })
  const plugins = new Elysia({ name: 'edge' })
    .use(telemetry({ logger, metrics }))
    .use(securityHeaders({ corsOrigins: config.CORS_ORIGINS, docsPath }))
  if (config.RATE_LIMIT === 'on') {
    plugins.use(
      rateLimit({
        limiter: connection ? redisLimiter(connection) : memoryLimiter(),
        clock,
        logger,
        trustedProxies: trustedProxies(config.TRUSTED_PROXY),
        clientIpHeader: config.CLIENT_IP_HEADER,
        rates: {
          anonymous: parseRate(config.RATE_LIMIT_ANONYMOUS),
          user: parseRate(config.RATE_LIMIT_USER),
          authIp: parseRate(config.RATE_LIMIT_AUTH_IP),
          authEmail: parseRate(config.RATE_LIMIT_AUTH_EMAIL),
          flashSaleEntry: parseRate(config.RATE_LIMIT_FLASH_SALE_ENTRY),
        },
      }),
    )
  }
  const probes: Probe[] = connection ? [{ name: 'redis', check: async () => void (await connection.ping()) }] : []
  return {
    plugins,
    probes,
    worker: {
      async start() {
        if (connection && !(await whenReady(connection))) logger.warn('redis not ready at start-up; serving anyway', {})
      },
      stop() {},
    },
  }
}
