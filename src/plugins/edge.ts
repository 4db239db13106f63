import { Elysia, type AnyElysia } from 'elysia'
import type { Registry } from 'prom-client'
import type { Config } from '../config'
import type { Clock } from '../lib/clock'
import type { Logger } from '../lib/logger'
import { parseRate } from '../lib/rates'
import { trustedProxies } from '../lib/client-ip'
import { routeIndex } from '../lib/route-index'
import type { Limiter } from '../infra/limiter'
import { telemetry } from './telemetry'
import { securityHeaders } from './security-headers'
import { rateLimit } from './rate-limit'
import { methodNotAllowed } from './method-not-allowed'
import type { AccessTokens } from '../lib/access-tokens'

export interface EdgeOptions {
  config: Config
  tokens: AccessTokens
  clock: Clock
  logger: Logger
  metrics: Registry
  /** In-process, or shared through Redis when instances must share counts (chosen in deps.ts). */
  limiter: Limiter
}

/**
 * What faces the internet before any route runs: request log and metrics, security
 * headers and CORS, rate limits, 405 for a wrong method.
 */
export function edge({ config, tokens, clock, logger, metrics, limiter }: EdgeOptions) {
  // The app's own routes, known once `routing` is used on it: rate limits and metrics name a
  // request's route before the framework has routed it.
  let app: AnyElysia | undefined
  const routes = routeIndex(() => app?.routes ?? [])
  const plugins = new Elysia({ name: 'edge' }).use(telemetry({ logger, metrics, routes })).use(securityHeaders({ corsOrigins: config.CORS_ORIGINS }))
  if (config.RATE_LIMIT === 'on') {
    plugins.use(
      rateLimit({
        limiter,
        clock,
        logger,
        trustedProxies: trustedProxies(config.TRUSTED_PROXY),
        clientIpHeader: config.CLIENT_IP_HEADER,
        tokens,
        routes,
        peerOf: (request) => app?.server?.requestIP(request)?.address,
        rates: {
          anonymous: parseRate(config.RATE_LIMIT_ANONYMOUS),
          user: parseRate(config.RATE_LIMIT_USER),
          authIp: parseRate(config.RATE_LIMIT_AUTH_IP),
          authEmail: parseRate(config.RATE_LIMIT_AUTH_EMAIL),
          authEmailBackstop: parseRate(config.RATE_LIMIT_AUTH_EMAIL_BACKSTOP),
          register: parseRate(config.RATE_LIMIT_REGISTER),
          flashSaleEntry: parseRate(config.RATE_LIMIT_FLASH_SALE_ENTRY),
        },
      }),
    )
  }
  return {
    /** Used on the app itself, first (before http-errors, which would answer 404): learns its routes, answers 405. */
    // Typed as the app it is given (it adds a hook, no route), so the app's type keeps its routes for typed clients.
    routing: <App extends AnyElysia>(root: App): App => {
      app = root
      root.use(methodNotAllowed(routes))
      return root
    },
    plugins,
  }
}
