import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startShop, type TestShop } from './support/harness'
import { eventually } from './support/eventually'
import { shopping } from './support/shopping'
import { createLogger } from '../src/lib/logger'

const lines: string[] = []
let s: TestShop
beforeAll(async () => {
  s = await startShop({ deps: { logger: createLogger('info', (line) => lines.push(line)) } })
})
afterAll(() => s.close())

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** A strict reader of the Prometheus text format: every line must be a comment or a sample. */
function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || /^# (HELP|TYPE) [a-zA-Z_:][\w:]* .+$/.test(line)) continue
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (-?[\d.e+-]+|NaN|[+-]Inf)$/.exec(line)
    if (!match) throw new Error(`not Prometheus text: ${line}`)
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]))
    samples.push({ name: match[1]!, labels, value: Number(match[3]) })
  }
  return samples
}

const scrape = async () => {
  const res = await fetch(s.url + '/metrics')
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toContain('text/plain')
  return parsePrometheus(await res.text())
}
const value = (samples: Sample[], name: string, labels: Record<string, string>) => samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v))?.value ?? 0

describe('/metrics', () => {
  test('parses as Prometheus text and counts requests by route template and status', async () => {
    const labels = { method: 'GET', route: '/v1/photos/:key', status: '404' }
    const before = value(await scrape(), 'http_requests_total', labels)
    for (let i = 0; i < 3; i++) expect((await s.request('GET', `/v1/photos/${crypto.randomUUID()}.webp`)).status).toBe(404)
    // Observations are made just after the answer is sent: wait for them.
    const after = await eventually(async () => {
      const samples = await scrape()
      expect(value(samples, 'http_requests_total', labels)).toBe(before + 3)
      return samples
    })
    expect(value(after, 'http_request_duration_seconds_count', labels)).toBe(before + 3)
    expect(value(after, 'http_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(before + 3)
    // Raw paths never become labels (one series per id would never end).
    expect(after.some((x) => x.labels.route?.includes('.webp'))).toBe(false)
    expect(after.some((x) => x.name === 'http_requests_in_flight')).toBe(true)
  })

  test('errors count under their status; unknown paths share one label', async () => {
    await s.request('GET', '/v1/me')
    await s.request('GET', `/no/such/${crypto.randomUUID()}`)
    await eventually(async () => {
      const samples = await scrape()
      expect(value(samples, 'http_requests_total', { route: '/v1/me', status: '401' })).toBeGreaterThanOrEqual(1)
      expect(value(samples, 'http_requests_total', { route: 'unmatched', status: '404' })).toBeGreaterThanOrEqual(1)
    })
  })

  test('in-flight requests go back to zero once answered', async () => {
    await Promise.all(Array.from({ length: 20 }, () => s.request('GET', '/health')))
    // The scrape itself is the one request in flight.
    await eventually(async () => expect(value(await scrape(), 'http_requests_in_flight', {})).toBe(1))
  })

  test('with METRICS_TOKEN, a scrape needs the token', async () => {
    const token = 'scrape-token-0123456789'
    const guarded = await startShop({ env: { METRICS_TOKEN: token } })
    try {
      expect((await guarded.request('GET', '/metrics')).status).toBe(401)
      expect((await guarded.request('GET', '/metrics', { token: 'wrong-token-0123456789' })).status).toBe(401)
      const ok = await fetch(guarded.url + '/metrics', { headers: { authorization: `Bearer ${token}` } })
      expect(ok.status).toBe(200)
      expect(parsePrometheus(await ok.text()).length).toBeGreaterThan(0)
    } finally {
      await guarded.close()
    }
  })
})

describe('request log', () => {
  const logged = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>)

  test('one JSON line per request: request id, user id, route, status, duration', async () => {
    const u = await s.createUser()
    const res = await s.request('GET', '/v1/me', { token: u.token })
    const id = res.headers.get('x-request-id')
    // The line is written just after the answer is sent.
    const mine = await eventually(() => {
      const found = logged().filter((l) => l.request_id === id)
      expect(found).toHaveLength(1)
      return found
    })
    expect(mine[0]).toMatchObject({ level: 'info', msg: 'request', method: 'GET', route: '/v1/me', status: 200, user_id: u.id })
    expect(mine[0]!.duration_ms).toBeNumber()
    const anonymous = await s.request('POST', '/v1/auth/login', { body: { email: 'nobody@example.com', password: 'whatever pw' } })
    await eventually(() => expect(logged().find((l) => l.request_id === anonymous.headers.get('x-request-id'))).toMatchObject({ route: '/v1/auth/login', status: 401, user_id: null }))
  })

  test('no password, token or card number in any line after register, login, refresh, logout, a password change and card payments', async () => {
    const u = await s.register()
    const secrets = [u.password, u.access_token, u.refresh_token]
    const login = await s.request('POST', '/v1/auth/login', { body: { email: u.email, password: u.password } })
    secrets.push(login.body.access_token, login.body.refresh_token)
    const refreshed = await s.request('POST', '/v1/auth/refresh', { body: { refresh_token: login.body.refresh_token } })
    secrets.push(refreshed.body.access_token, refreshed.body.refresh_token)
    await s.request('POST', '/v1/auth/refresh', { body: { refresh_token: login.body.refresh_token } })
    await s.request('PUT', '/v1/me/password', { token: refreshed.body.access_token, body: { current_password: u.password, new_password: 'brand new secret' } })
    secrets.push('brand new secret')
    await s.request('POST', '/v1/auth/logout', { token: refreshed.body.access_token, body: { refresh_token: refreshed.body.refresh_token } })
    // A card number in a body that fails validation must not be echoed into the log either.
    await s.request('PATCH', '/v1/me', { token: refreshed.body.access_token, body: { card: { number: '4242424242424242', cvc: '123' } } })
    secrets.push('4242424242424242')

    const { u: buyer, order } = await shopping(s).placedOrder()
    secrets.push(buyer.token)
    const card = (number: string) => ({ method: 'card', card: { number, exp_month: 12, exp_year: new Date().getUTCFullYear() + 2, cvc: '987', holder: 'ANA SOUZA' } })
    const declined = await s.request('POST', `/v1/orders/${order.id}/payments`, { token: buyer.token, body: card('4000000000000002') })
    expect(declined.status).toBe(402)
    const approved = await s.request('POST', `/v1/orders/${order.id}/payments`, { token: buyer.token, body: card('5555555555554444') })
    expect(approved.status).toBe(201)
    await s.shop.services.gateway.idle()
    secrets.push('4000000000000002', '5555555555554444', '"987"', 'cvc":"987')

    const last = await s.request('GET', '/health')
    await eventually(() => expect(logged().some((l) => l.request_id === last.headers.get('x-request-id'))).toBe(true))
    expect(
      logged()
        .filter((l) => l.route === '/v1/orders/:id/payments')
        .map((l) => l.status),
    ).toEqual([402, 201])
    const text = lines.join('\n')
    expect(lines.length).toBeGreaterThan(6)
    for (const secret of secrets) expect(text).not.toContain(secret)
  })
})
