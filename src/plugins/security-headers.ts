import { Elysia } from 'elysia'
import { createHash } from 'node:crypto'
import { problem, requestIdOf } from './http-errors'

export interface SecurityHeadersOptions {
  /** Origins (scheme://host[:port]) whose browsers may call the API; never `*`. */
  corsOrigins: string[]
  /** The HTML documentation page, which loads its scripts and styles from a CDN. */
  docsPath: string
}

const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

const BASELINE = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'strict-transport-security': 'max-age=63072000; includeSubDomains',
  'cross-origin-opener-policy': 'same-origin',
  'content-security-policy': API_CSP,
}

const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE'
const REFUSED_METHODS = new Set(['TRACE', 'TRACK'])
const CORS_PREFLIGHT = {
  'access-control-allow-methods': ALLOWED_METHODS,
  'access-control-allow-headers': 'Authorization, Content-Type, Idempotency-Key',
  'access-control-max-age': '600',
}
const CORS_EXPOSED = 'RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, X-Request-Id, Location'

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`

/**
 * A policy that lets the docs page run exactly what it ships: its inline scripts and
 * styles by hash, its CDN's origin for the rest, calls only to this API.
 */
export function docsCsp(html: string): string {
  const inline = (tag: string) => [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => sha256(m[1]!))
  const origins = [...new Set([...html.matchAll(/(?:src|href)="(https:\/\/[^/"]+)/g)].map((m) => m[1]!))]
  const from = (...more: string[]) => ["'self'", ...origins, ...more].join(' ')
  return [
    "default-src 'none'",
    `script-src ${from(...inline('script'))}`,
    `style-src ${from(...inline('style'))}`,
    `img-src ${from('data:')}`,
    `font-src ${from('data:')}`,
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ')
}

/**
 * Headers every answer carries (JSON, problem+json, streams, images): nosniff, no
 * referrer, a CSP that lets nothing run, HSTS, and `Cache-Control: no-store` unless the
 * route chose its own caching (public photos). CORS answers only listed origins, and
 * never with credentials (the API uses bearer tokens, not cookies). TRACE is refused.
 */
export const securityHeaders = ({ corsOrigins, docsPath }: SecurityHeadersOptions) => {
  const allowed = new Set(corsOrigins)
  let docs = { html: '', policy: '' }
  return new Elysia({ name: 'security-headers' })
    .onRequest(({ request, set }) => {
      Object.assign(set.headers, BASELINE, { 'cache-control': 'no-store' })
      const origin = request.headers.get('origin')
      const corsAllowed = origin !== null && allowed.has(origin)
      if (corsAllowed) Object.assign(set.headers, { 'access-control-allow-origin': origin, vary: 'Origin', 'access-control-expose-headers': CORS_EXPOSED })
      if (REFUSED_METHODS.has(request.method)) {
        set.status = 405
        return problem(405, 'method_not_allowed', `${request.method} is not allowed`, requestIdOf(request), {}, { allow: `${ALLOWED_METHODS}, OPTIONS` })
      }
      if (request.method === 'OPTIONS' && request.headers.has('access-control-request-method')) {
        set.status = 204
        return new Response(null, { status: 204, headers: corsAllowed ? CORS_PREFLIGHT : {} })
      }
    })
    .onAfterHandle({ as: 'global' }, async ({ route, responseValue, set }) => {
      if (route !== docsPath) return
      // A route that answers a fixed Response (the docs page) hands hooks a function making copies of it.
      const page = typeof responseValue === 'function' ? (responseValue as () => unknown)() : responseValue
      if (!(page instanceof Response)) return
      const html = await page.clone().text()
      if (docs.html !== html) docs = { html, policy: docsCsp(html) }
      set.headers['content-security-policy'] = docs.policy
    })
}
