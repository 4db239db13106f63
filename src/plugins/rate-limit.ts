import { Elysia } from 'elysia'
import type { BlockList } from 'node:net'
import type { LimitCheck, LimitDecision, Limiter } from '../infra/limiter'
import type { Clock } from '../lib/clock'
import type { Logger } from '../lib/logger'
import type { Rate } from '../lib/rates'
import { AppError } from '../lib/errors'
import { sha256Hex } from '../lib/crypto'
import { clientIp } from '../lib/client-ip'
import { principalOf } from './auth'

export interface Rates {
  /** Per client IP, on routes without a signed-in user. */
  anonymous: Rate
  /** Per user, on routes that require one. */
  user: Rate
  /** Login and register, per IP and, separately, per email: password guessing and hashing cost. */
  authIp: Rate
  authEmail: Rate
  /** Flash-sale entries, per user: the queue's hot path. */
  flashSaleEntry: Rate
}

export interface RateLimitOptions {
  limiter: Limiter
  clock: Clock
  logger: Logger
  rates: Rates
  trustedProxies: BlockList
  /** Where a trusted proxy puts the client's address. */
  clientIpHeader: string
}

/** Probes and scrapes come from the platform, not from clients. */
// The payment webhook is authenticated by its HMAC and comes from a gateway's few addresses
// (the fake gateway's from none): an IP bucket would refuse payments under load.
const EXEMPT = new Set(['/health', '/ready', '/metrics', '/v1/payments/webhook'])
const CREDENTIAL_ROUTES = new Set(['/v1/auth/login', '/v1/auth/register'])
const FLASH_SALE_ENTRY = /^\/v1\/flash-sales\/drops\/:[^/]+\/entries$/

interface Rule {
  checks: LimitCheck[]
  /** When the limiter cannot answer: refuse (credential routes) or let the request through. */
  failClosed: boolean
}

const bucket = (key: string, rate: Rate): LimitCheck => ({ key: `ratelimit:${key}`, ...rate })

const headersOf = (d: LimitDecision): Record<string, string> => ({
  'ratelimit-limit': String(d.limit),
  'ratelimit-remaining': String(d.remaining),
  'ratelimit-reset': String(Math.ceil(d.resetMs / 1000)),
})

/**
 * Charges every request to its buckets before the handler runs (after auth, so a user is
 * known, and after body validation, so login can be keyed by email). Answers carry
 * `RateLimit-*`; past the limit, 429 `rate_limited` with `Retry-After`. Emails are hashed
 * in keys so Redis holds no personal data.
 */
export const rateLimit = ({ limiter, clock, logger, rates, trustedProxies, clientIpHeader }: RateLimitOptions) => {
  let lastOutageLog = 0
  const ruleFor = (method: string, route: string, request: Request, ip: string, body: unknown): Rule => {
    if (method === 'POST' && CREDENTIAL_ROUTES.has(route)) {
      const email = (body as { email?: unknown } | undefined)?.email
      const checks = [bucket(`auth-ip:${ip}`, rates.authIp)]
      if (typeof email === 'string') checks.push(bucket(`auth-email:${sha256Hex(email.trim().toLowerCase())}`, rates.authEmail))
      return { checks, failClosed: true }
    }
    const user = principalOf(request)
    if (!user) return { checks: [bucket(`ip:${ip}`, rates.anonymous)], failClosed: false }
    if (method === 'POST' && FLASH_SALE_ENTRY.test(route)) return { checks: [bucket(`entry:${user.id}`, rates.flashSaleEntry)], failClosed: false }
    return { checks: [bucket(`user:${user.id}`, rates.user)], failClosed: false }
  }

  return new Elysia({ name: 'rate-limit' }).onBeforeHandle({ as: 'global' }, async ({ request, route, server, body, set }) => {
    if (EXEMPT.has(route)) return
    const ip = clientIp(server?.requestIP(request)?.address, request.headers, trustedProxies, clientIpHeader)
    const rule = ruleFor(request.method, route, request, ip, body)
    let decision: LimitDecision
    try {
      decision = await limiter.take(rule.checks, clock.now())
    } catch (error) {
      const now = clock.now()
      if (now - lastOutageLog > 10_000) {
        lastOutageLog = now
        logger.warn('rate limiter unavailable', { fail: rule.failClosed ? 'closed' : 'open', error: String(error) })
      }
      if (!rule.failClosed) return
      throw new AppError(503, 'service_unavailable', 'Sign-in is paused for a moment; try again shortly', undefined, undefined, { 'retry-after': '5' })
    }
    const headers = headersOf(decision)
    if (!decision.allowed) {
      const retryAfter = String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)))
      throw new AppError(429, 'rate_limited', `Too many requests; retry in ${retryAfter} s`, undefined, undefined, { ...headers, 'retry-after': retryAfter })
    }
    Object.assign(set.headers, headers)
  })
}
