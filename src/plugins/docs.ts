import { Elysia } from 'elysia'
import { openapi } from '@elysiajs/openapi'
import { createHash } from 'node:crypto'

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`

/**
 * A policy that lets the docs page run exactly what it ships: its inline scripts and
 * styles by hash, its CDN's origin for the rest, calls only to this API.
 */
function docsCsp(html: string): string {
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
 * Swagger UI at `path` and the OpenAPI document at `path/json`. The page gets a policy of its
 * own (every other answer's CSP lets nothing run); the hook is local, so only these routes pay it.
 */
export function docs(path: string) {
  let page = { html: '', policy: '' }
  return new Elysia({ name: 'docs' })
    .onAfterHandle(async ({ route, responseValue }) => {
      if (route !== path) return
      // A route that answers a fixed Response (the docs page) hands hooks a function making
      // copies of it, built with the app's default headers (the API's CSP among them).
      const response = typeof responseValue === 'function' ? (responseValue as () => unknown)() : responseValue
      if (!(response instanceof Response)) return
      const html = await response.text()
      if (page.html !== html) page = { html, policy: docsCsp(html) }
      const headers = new Headers(response.headers)
      headers.set('content-security-policy', page.policy)
      return new Response(html, { status: response.status, headers })
    })
    .use(
      openapi({
        path,
        specPath: `${path}/json`,
        provider: 'swagger-ui',
        // A pinned UI build: `latest` would change what admins run (and what the CSP allows) under us.
        swagger: { version: '5.35.0' },
        documentation: {
          info: { title: 'Shop API', version: '1.0.0', description: 'Bun-native e-commerce API. Errors are RFC 9457 problem+json with a stable `code`.' },
          components: {
            securitySchemes: {
              bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
              // EventSource cannot send headers: event streams also take a ticket in the URL.
              streamTicket: { type: 'apiKey', in: 'query', name: 'ticket', description: 'From POST /v1/auth/stream-ticket; accepted by `…/events` routes only' },
            },
          },
        },
      }),
    )
}
