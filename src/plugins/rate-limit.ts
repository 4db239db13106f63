import { Elysia } from 'elysia'
import type { BlockList } from 'node:net'
import type { LimitCheck, LimitDecision, Limiter } from '../infra/limiter'
import type { Clock } from '../lib/clock'
import type { Logger } from '../lib/logger'
import type { Rate } from '../lib/rates'
import { AppError } from '../lib/errors'
import { sha256Hex } from '../lib/crypto'
import { addressKey, clientIp } from '../lib/client-ip'
import { pathOf, type RouteIndex } from '../lib/route-index'
import type { AccessTokens } from '../lib/access-tokens'
import { bearerOf } from './auth'

export interface Rates {
  /** Per client IP, for requests without a valid access token. */
  anonymous: Rate
  /** Per user, for requests with one. */
  user: Rate
  /** Login and register, per address: password guessing and hashing cost. */
  authIp: Rate
  /** Per (email, address): the strict budget for guessing one account's password from one place. */
  authEmail: Rate
  /**
   * Per email, whatever the address: looser. Once spent (guesses from many addresses), each
   * address gets only its first `UNDER_ATTACK_TRIES` of its (email, address) budget. It slows
   * a distributed guesser without locking the owner out: their own address keeps its tries.
   */
  authEmailBackstop: Rate
  /** Sign-ups per address (accounts to enter flash sales with). */
  register: Rate
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
  /** The app's access tokens: a request's user is known from its token before auth runs. */
  tokens: AccessTokens
  routes: RouteIndex
  /**
   * The address of the socket a request came on (the app's server's `requestIP`). Passed in
   * rather than read from the hook's `server`: a hook asking for `server` makes the framework
   * define it on every request's context, on every route.
   */
  peerOf(request: Request): string | undefined
}

/**
 * What a route is charged against, declared by the route (`rateLimit`); without one, the
 * anonymous budget per address or the user's, by the request's token. `exempt`: not charged;
 * `credentials`: login and the OAuth token endpoint (per address, then per email); `registration`: the same plus sign-ups
 * per address; `flash-sale-entry`: its own per-user bucket.
 */
export type RateLimitClass = 'exempt' | 'credentials' | 'registration' | 'flash-sale-entry'

/** Tries per (email, address) while the email's backstop is spent: a typo or two, not a dictionary. */
const UNDER_ATTACK_TRIES = 3

/** The `rateLimit` route option. It adds no hook: the limiter reads it from the route index before routing. */
export const rateLimitClasses = new Elysia({ name: 'rate-limit-classes' }).macro({ rateLimit: (_: RateLimitClass) => ({}) })

interface Rule {
  checks: LimitCheck[]
  /**
   * Login and register: refused when the limiter cannot answer (password guessing must never
   * go unthrottled; elsewhere the request goes through), and the email is charged later, from
   * this address.
   */
  credential?: { ip: string }
}

type HookContext = { request: Request; set: { headers: Record<string, string | number> } }

const bucket = (key: string, rate: Rate): LimitCheck => ({ key: `ratelimit:${key}`, ...rate })

const headersOf = (d: LimitDecision): Record<string, string> => ({
  'ratelimit-limit': String(d.limit),
  'ratelimit-remaining': String(d.remaining),
  'ratelimit-reset': String(Math.ceil(d.resetMs / 1000)),
})

/** Two charges of one request as one answer, as the limiter folds buckets: the tightest speaks. */
const tightest = (a: LimitDecision, b: LimitDecision): LimitDecision => ({ ...(b.remaining < a.remaining ? b : a), resetMs: Math.max(a.resetMs, b.resetMs) })

/**
 * Charges every request when it arrives, before routing, parsing, authentication or
 * validation run, so answers that fail there (401, 404, 405, 415, 422) are counted and carry
 * `RateLimit-*` too. The key: the user of a valid access token, else the client address; login
 * and register charge the address on arrival and the email (hashed in the key, so Redis holds
 * no personal data) once the body is read, before the password hash. Past the limit, 429
 * `rate_limited` with `Retry-After`.
 */
export const rateLimit = ({ limiter, clock, logger, rates, trustedProxies, clientIpHeader, tokens, routes, peerOf }: RateLimitOptions) => {
  let lastOutageLog = 0
  const onArrival = new WeakMap<Request, { decision: LimitDecision; ip: string }>()

  const addressOf = (request: Request) => addressKey(clientIp(peerOf(request), request.headers, trustedProxies, clientIpHeader))
  // The address is worked out only for the buckets keyed by it: a signed-in user's request (a stampede's entry) never needs it.
  const ruleFor = (request: Request, kind: RateLimitClass | undefined): Rule => {
    if (kind === 'credentials' || kind === 'registration') {
      const ip = addressOf(request)
      const checks = [bucket(`auth-ip:${ip}`, rates.authIp)]
      if (kind === 'registration') checks.push(bucket(`register:${ip}`, rates.register))
      return { checks, credential: { ip } }
    }
    // Auth's own check, made once for the request (auth finds it done): a forged token counts against the address.
    const user = bearerOf(request, tokens)?.id
    if (!user) return { checks: [bucket(`ip:${addressOf(request)}`, rates.anonymous)] }
    if (kind === 'flash-sale-entry') return { checks: [bucket(`entry:${user}`, rates.flashSaleEntry)] }
    return { checks: [bucket(`user:${user}`, rates.user)] }
  }

  /** The decision when it lets the request through; 429 when not. */
  const allowed = (decision: LimitDecision) => {
    if (!decision.allowed) {
      const retryAfter = String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)))
      throw new AppError(429, 'rate_limited', `Too many requests; retry in ${retryAfter} s`, { headers: { ...headersOf(decision), 'retry-after': retryAfter } })
    }
    return decision
  }

  /** The decision, or undefined when the limiter is down and the request may go through. Throws 429 or 503. */
  const charge = async ({ checks, credential }: Rule): Promise<LimitDecision | undefined> => {
    let decision: LimitDecision
    try {
      decision = await limiter.take(checks, clock.now())
    } catch (error) {
      const now = clock.now()
      if (now - lastOutageLog > 10_000) {
        lastOutageLog = now
        logger.warn('rate limiter unavailable', { fail: credential ? 'closed' : 'open', error: String(error) })
      }
      if (!credential) return undefined
      throw new AppError(503, 'service_unavailable', 'Sign-in is paused for a moment; try again shortly', { headers: { 'retry-after': '5' } })
    }
    return allowed(decision)
  }

  /** What the request is charged against, or undefined for an exempt route. */
  const ruleOf = (request: Request) => {
    const kind = (routes.routeOf(request.method, pathOf(request.url))?.hooks as { rateLimit?: RateLimitClass } | undefined)?.rateLimit
    return kind === 'exempt' ? undefined : ruleFor(request, kind)
  }
  const charged = (request: Request, set: HookContext['set'], rule: Rule, decision: LimitDecision | undefined) => {
    if (!decision) return
    Object.assign(set.headers, headersOf(decision))
    if (rule.credential) onArrival.set(request, { decision, ip: rule.credential.ip })
  }
  const takeNow = limiter.takeNow?.bind(limiter)
  // An in-process limiter answers at once: the hook then stays synchronous, and so does every
  // route's start (the framework awaits an async request hook on every request of every route).
  const onArrivalHook = takeNow
    ? ({ request, set }: HookContext) => {
        const rule = ruleOf(request)
        if (rule) charged(request, set, rule, allowed(takeNow(rule.checks, clock.now())))
      }
    : async ({ request, set }: HookContext) => {
        const rule = ruleOf(request)
        if (rule) charged(request, set, rule, await charge(rule))
      }

  return new Elysia({ name: 'rate-limit' }).onRequest(onArrivalHook).onBeforeHandle({ as: 'global' }, async ({ request, body, set }) => {
    // Only a credentials route has an arrival charge kept (it fails closed: there always is one).
    const arrival = request.method === 'POST' && onArrival.get(request)
    if (!arrival) return
    // The OAuth token route names the email `username` (RFC 6749).
    const { email, username } = (body ?? {}) as { email?: unknown; username?: unknown }
    const account = typeof email === 'string' ? email : username
    if (typeof account !== 'string') return
    const hashed = sha256Hex(account.trim().toLowerCase())
    const strict = await charge({ checks: [bucket(`auth-email:${hashed}:${arrival.ip}`, rates.authEmail)], credential: arrival })
    if (!strict) return
    Object.assign(set.headers, headersOf(tightest(arrival.decision, strict)))
    // The backstop refuses nothing by itself: spent, it only narrows each address to its first tries.
    const backstop = await limiter.take([bucket(`auth-email:${hashed}`, rates.authEmailBackstop)], clock.now())
    if (backstop.allowed || rates.authEmail.limit - strict.remaining <= UNDER_ATTACK_TRIES) return
    const retryAfter = String(Math.max(1, Math.ceil(backstop.retryAfterMs / 1000)))
    throw new AppError(429, 'rate_limited', `Too many attempts for this account; retry in ${retryAfter} s`, { headers: { ...headersOf({ ...strict, remaining: 0 }), 'retry-after': retryAfter } })
  })
}
