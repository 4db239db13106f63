import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startShop, type TestShop } from './support/harness'
import { photoForm, pngBytes } from './support/images'
import { shopping } from './support/shopping'

const ORIGIN = 'https://shop.example'
let s: TestShop
beforeAll(async () => {
  s = await startShop({ env: { CORS_ORIGINS: `${ORIGIN}, https://admin.shop.example` } })
})
afterAll(() => s.close())

function expectBaseline(headers: Headers) {
  expect(headers.get('x-content-type-options')).toBe('nosniff')
  expect(headers.get('referrer-policy')).toBe('no-referrer')
  expect(headers.get('strict-transport-security')).toStartWith('max-age=')
  expect(headers.get('x-request-id')).toBeString()
}
const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

describe('headers on every kind of answer', () => {
  test('JSON with personal data: strict CSP and no-store', async () => {
    const u = await s.createUser()
    const res = await s.request('GET', '/v1/me', { token: u.token })
    expect(res.status).toBe(200)
    expectBaseline(res.headers)
    expect(res.headers.get('content-security-policy')).toBe(API_CSP)
    expect(res.headers.get('cache-control')).toBe('no-store')
  })

  test('problem+json errors (404, 401, 422, 415)', async () => {
    const answers = [
      await s.request('GET', '/v1/nope'),
      await s.request('GET', '/v1/me'),
      await s.request('POST', '/v1/auth/login', { body: { email: 'a@example.com' } }),
      await s.request('POST', '/v1/auth/login', { raw: 'x', headers: { 'content-type': 'text/plain' } }),
    ]
    expect(answers.map((r) => r.status)).toEqual([404, 401, 422, 415])
    for (const res of answers) {
      expect(res.headers.get('content-type')).toContain('application/problem+json')
      expectBaseline(res.headers)
      expect(res.headers.get('content-security-policy')).toBe(API_CSP)
      expect(res.headers.get('cache-control')).toBe('no-store')
    }
  })

  test('images keep their own caching and still carry the rest', async () => {
    const u = await s.register()
    const put = await s.request('PUT', '/v1/me/photo', { token: u.token, raw: photoForm(await pngBytes()) })
    const img = await fetch(s.url + put.body.photo_url)
    expect(img.status).toBe(200)
    expect(img.headers.get('content-type')).toBe('image/webp')
    expectBaseline(img.headers)
    expect(img.headers.get('cache-control')).toContain('immutable')
  })

  test('event streams (order tracking over SSE)', async () => {
    const { u, order } = await shopping(s).placedOrder()
    const controller = new AbortController()
    const res = await fetch(`${s.url}/v1/orders/${order.id}/events`, { headers: { authorization: `Bearer ${u.token}` }, signal: controller.signal })
    try {
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toContain('text/event-stream')
      expectBaseline(res.headers)
      expect(res.headers.get('content-security-policy')).toBe(API_CSP)
      // The route keeps its own no-cache, no-transform (proxies must not buffer a stream).
      expect(res.headers.get('cache-control')).toMatch(/no-(store|cache)/)
      const reader = res.body!.getReader()
      expect(new TextDecoder().decode((await reader.read()).value)).toContain('event: status')
    } finally {
      controller.abort()
    }
  })

  test('the Swagger page may run exactly its own files, nothing else (the rate-limited configuration: test/docs.test.ts)', async () => {
    const res = await fetch(s.url + '/swagger')
    const html = await res.text()
    const csp = res.headers.get('content-security-policy')!
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("script-src 'self';")
    expect(csp).toContain("style-src 'self';")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).not.toContain('unsafe-inline')
    expect(csp).not.toContain('unsafe-eval')
    expect(csp).not.toContain('http')
    expect(html).not.toContain('<script>')
    expect(html).not.toContain('<style')
    expect(csp).toContain("connect-src 'self'")
  })
})

describe('CORS', () => {
  test('a listed origin is echoed, never *, and never with credentials', async () => {
    const res = await s.request('GET', '/health', { headers: { origin: ORIGIN } })
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect(res.headers.get('vary')).toContain('Origin')
    expect(res.headers.get('access-control-allow-credentials')).toBeNull()
    expect(res.headers.get('access-control-expose-headers')).toContain('RateLimit-Remaining')
  })

  test('an unlisted origin gets no CORS headers', async () => {
    const res = await s.request('GET', '/health', { headers: { origin: 'https://evil.example' } })
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
  })

  test('answers to unlisted origins, or to none, say Vary: Origin too: a cache must not reuse them for a listed one', async () => {
    const u = await s.register()
    const { photo_url } = (await s.request('PUT', '/v1/me/photo', { token: u.token, raw: photoForm(await pngBytes(32, 32)) })).body
    for (const headers of [{ origin: 'https://evil.example' }, {} as Record<string, string>]) {
      for (const path of ['/health', photo_url, '/no/such/path']) {
        const res = await s.request('GET', path, { headers })
        expect({ path, vary: res.headers.get('vary') }).toEqual({ path, vary: 'Origin' })
      }
    }
    const refused = await fetch(s.url + '/v1/me', { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'PATCH' } })
    expect(refused.headers.get('vary')).toBe('Origin')
  })

  test('preflight: 204 with methods and headers for a listed origin only', async () => {
    const preflight = (origin: string) =>
      fetch(s.url + '/v1/me', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'authorization, content-type' } })
    const ok = await preflight(ORIGIN)
    expect(ok.status).toBe(204)
    expect(ok.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect(ok.headers.get('access-control-allow-methods')).toContain('PATCH')
    expect(ok.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization')
    const refused = await preflight('https://evil.example')
    expect(refused.headers.get('access-control-allow-origin')).toBeNull()
    expect(refused.headers.get('access-control-allow-methods')).toBeNull()
  })
})

/** fetch drops the body of a TRACE answer, so read the raw bytes off a socket. */
async function rawRequest(head: string): Promise<string> {
  const { port } = new URL(s.url)
  let answer = ''
  const { promise, resolve } = Promise.withResolvers<string>()
  await Bun.connect({
    hostname: '127.0.0.1',
    port: Number(port),
    socket: {
      open: (socket) => void socket.write(head),
      data: (_socket, chunk) => void (answer += chunk.toString()),
      close: () => resolve(answer),
    },
  })
  return promise
}

test('TRACE is refused with 405 problem+json, echoing nothing back', async () => {
  const answer = await rawRequest('TRACE /v1/me HTTP/1.1\r\nHost: shop\r\nAuthorization: Bearer secret-token\r\nConnection: close\r\n\r\n')
  const [head, body] = answer.split('\r\n\r\n')
  expect(head).toStartWith('HTTP/1.1 405')
  expect(head!.toLowerCase()).toContain('content-type: application/problem+json')
  expect(head!.toLowerCase()).toContain('x-content-type-options: nosniff')
  expect(head!.toLowerCase()).toMatch(/allow: get, post, put, patch, delete, options/)
  expect(JSON.parse(body!)).toMatchObject({ status: 405, code: 'method_not_allowed' })
  expect(answer).not.toContain('secret-token')
})
