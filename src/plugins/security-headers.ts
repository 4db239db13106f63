import { Elysia } from 'elysia'
import { AppError } from '../lib/errors'
import { preserialized } from '../lib/models'
import { SECURITY_HEADERS } from '../lib/response-headers'

export interface SecurityHeadersOptions {
  /** Origins (scheme://host[:port]) whose browsers may call the API; never `*`. */
  corsOrigins: string[]
}

/** What the framework's own JSON answers say. */
const JSON_TYPE = 'application/json;charset=utf-8'
const isPlainJson = (value: unknown) => typeof value === 'object' && value !== null && (value.constructor === Object || Array.isArray(value))

const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE'
const REFUSED_METHODS = new Set(['TRACE', 'TRACK'])
const CORS_PREFLIGHT = {
  'access-control-allow-methods': ALLOWED_METHODS,
  // Last-Event-ID: a browser resuming an event stream (EventSource sends it on reconnect).
  'access-control-allow-headers': 'Authorization, Content-Type, Idempotency-Key, Last-Event-ID',
  'access-control-max-age': '600',
}
const CORS_EXPOSED = 'RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, X-Request-Id, Location'

/**
 * Headers every answer carries (JSON, problem+json, streams, images): nosniff, no
 * referrer, a CSP that lets nothing run (the docs page sets its own, src/plugins/docs.ts),
 * HSTS, and `Cache-Control: no-store` unless the route chose its own caching (public
 * photos). They are the framework's default headers, copied into each request's `set` as it
 * is created. CORS answers only listed origins, and never with credentials (the API uses
 * bearer tokens, not cookies). TRACE is refused.
 */
export const securityHeaders = ({ corsOrigins }: SecurityHeadersOptions) => {
  const allowed = new Set(corsOrigins)
  // With CORS on, every answer depends on the Origin: a cache (a CDN in front of the public
  // photos) must not hand an answer made for one origin, or none, to another.
  return (
    new Elysia({ name: 'security-headers' })
      .headers(allowed.size ? { ...SECURITY_HEADERS, vary: 'Origin' } : SECURITY_HEADERS)
      // Plain JSON answers are made here (responseWith) rather than by the framework, which reads each one's headers from a plain object.
      // Anything else is handed back as it is: on the app's error path the framework takes this hook's undefined for the answer.
      .mapResponse({ as: 'global' }, ({ responseValue, set }) => (isPlainJson(responseValue) ? preserialized(set, JSON.stringify(responseValue), JSON_TYPE) : (responseValue as Response)))
      .onRequest(({ request, set }) => {
        if (allowed.size) {
          const origin = request.headers.get('origin')
          if (origin !== null && allowed.has(origin)) Object.assign(set.headers, { 'access-control-allow-origin': origin, 'access-control-expose-headers': CORS_EXPOSED })
        }
        const method = request.method
        if (REFUSED_METHODS.has(method)) {
          // Thrown, not returned: the framework awaits any hook whose source reads `return f(…)` (src/plugins/http-errors.ts).
          throw new AppError(405, 'method_not_allowed', `${method} is not allowed`, { headers: { allow: `${ALLOWED_METHODS}, OPTIONS` } })
        }
        if (method === 'OPTIONS' && request.headers.has('access-control-request-method')) {
          set.status = 204
          return new Response(null, { status: 204, headers: 'access-control-allow-origin' in set.headers ? CORS_PREFLIGHT : {} })
        }
      })
  )
}
