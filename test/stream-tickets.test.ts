import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { SignJWT } from 'jose'
import { startShop, type TestShop } from './support/harness'
import { shopping } from './support/shopping'
import { eventually } from './support/eventually'
import { openEvents } from './support/sse'
import { testRedis } from './support/redis'
import { createDrop } from './support/flash-sale'
import { createLogger } from '../src/lib/logger'

const ORIGIN = 'https://storefront.example'
const logLines: string[] = []
let s: TestShop
beforeAll(async () => {
  s = await startShop({ env: { CORS_ORIGINS: ORIGIN, LOG_LEVEL: 'debug' }, deps: { logger: createLogger('debug', (line) => logLines.push(line)) } })
})
afterAll(() => s.close())

const ticketOf = async (token: string) => {
  const res = await s.request('POST', '/v1/auth/stream-ticket', { token })
  expect(res.status).toBe(201)
  return res.body.ticket as string
}
const eventsUrl = (orderId: string, ticket?: string) => `${s.url}/v1/orders/${orderId}/events${ticket === undefined ? '' : `?ticket=${encodeURIComponent(ticket)}`}`
const card = { method: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2099, cvc: '123', holder: 'ANA' } }

describe('POST /v1/auth/stream-ticket', () => {
  test('201 { ticket, expires_in } for a signed-in user, at most 300 s; 401 without a token', async () => {
    const user = await s.createUser()
    const res = await s.request('POST', '/v1/auth/stream-ticket', { token: user.token })
    expect(res.status).toBe(201)
    expect(res.body).toEqual({ ticket: expect.any(String), expires_in: 300 })
    expect((await s.request('POST', '/v1/auth/stream-ticket')).status).toBe(401)
  })
})

describe('?ticket= on event streams', () => {
  test("opens the user's order stream without an Authorization header, live, and resumes with Last-Event-ID", async () => {
    const { u, order } = await shopping(s).placedOrder()
    const ticket = await ticketOf(u.token)
    const stream = await openEvents(eventsUrl(order.id, ticket), null)
    expect(stream.response.status).toBe(200)
    await eventually(() => expect(stream.events.map((e) => e.data.status)).toEqual(['pending_payment']))
    stream.close()
    await s.request('POST', `/v1/orders/${order.id}/payments`, { token: u.token, body: card })
    // A reconnect within the ticket's lifetime reuses it, as EventSource does.
    const resumed = await openEvents(eventsUrl(order.id, ticket), null, stream.events[0]!.id)
    await eventually(() => expect(resumed.events.map((e) => e.data.status)).toEqual(['paid']))
    resumed.close()
  })

  test("opens that user's streams only: another customer's order is 404 with their own ticket", async () => {
    const { order } = await shopping(s).placedOrder()
    const other = await s.createUser()
    expect((await openEvents(eventsUrl(order.id, await ticketOf(other.token)), null)).response.status).toBe(404)
  })

  test("an admin's ticket follows any order, as the admin's token does", async () => {
    const { order } = await shopping(s).placedOrder()
    const admin = await s.admin()
    const stream = await openEvents(eventsUrl(order.id, await ticketOf(admin.token)), null)
    expect(stream.response.status).toBe(200)
    stream.close()
  })

  test('the flash-sale entry stream takes it too (404 for an entry that does not exist, not 401)', async () => {
    const { dropId } = await createDrop(s)
    const user = await s.createUser()
    const ticket = await ticketOf(user.token)
    expect((await openEvents(`${s.url}/v1/flash-sales/drops/${dropId}/entries/me/events?ticket=${ticket}`, null)).response.status).toBe(404)
    expect((await openEvents(`${s.url}/v1/flash-sales/drops/${dropId}/entries/me/events`, null)).response.status).toBe(401)
  })

  test('no other route accepts a ticket, and a ticket is no bearer token', async () => {
    const { u, order } = await shopping(s).placedOrder()
    const ticket = await ticketOf(u.token)
    for (const path of [`/v1/orders/${order.id}`, '/v1/orders', '/v1/me', '/v1/cart']) {
      const res = await s.request('GET', `${path}?ticket=${ticket}`)
      expect(res.status).toBe(401)
    }
    expect((await s.request('POST', '/v1/auth/stream-ticket', { token: ticket })).status).toBe(401)
    expect((await s.request('GET', `/v1/orders/${order.id}`, { token: ticket })).status).toBe(401)
    expect((await openEvents(eventsUrl(order.id), ticket)).response.status).toBe(401)
  })

  test('an access token, an expired, forged or foreign ticket in the URL answer 401', async () => {
    const { u, order } = await shopping(s).placedOrder()
    const key = new TextEncoder().encode(s.config.JWT_SECRET)
    const now = Math.floor(Date.now() / 1000)
    const ticketClaims = { sub: u.id, roles: ['customer'], typ: 'stream', iss: 'shop', aud: 'shop-api' }
    const expired = await new SignJWT(ticketClaims)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt(now - 400)
      .setExpirationTime(now - 100)
      .sign(key)
    const tooLong = await new SignJWT(ticketClaims)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(key)
    const forged = await new SignJWT(ticketClaims)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt(now)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('x'.repeat(32)))
    expect((await openEvents(eventsUrl(order.id, tooLong), null)).response.status).toBe(200)
    for (const bad of [u.token, expired, forged, 'not-a-ticket']) {
      const res = await openEvents(eventsUrl(order.id, bad), null)
      expect(res.response.status).toBe(401)
      expect(res.response.headers.get('content-type')).toContain('application/problem+json')
    }
  })

  test("an erased account's ticket is refused at once", async () => {
    const user = await s.register()
    const ticket = await ticketOf(user.token)
    expect((await s.request('DELETE', '/v1/me', { token: user.token, body: { password: user.password } })).status).toBe(204)
    expect((await openEvents(`${s.url}/v1/orders/nope/events?ticket=${ticket}`, null)).response.status).toBe(401)
  })

  test('tickets never reach the log, whatever the route and outcome', async () => {
    const { u, order } = await shopping(s).placedOrder()
    const ticket = await ticketOf(u.token)
    const seen = logLines.length
    const stream = await openEvents(eventsUrl(order.id, ticket), null)
    await eventually(() => expect(stream.events).toHaveLength(1))
    stream.close()
    await openEvents(`${s.url}/v1/orders/unknown-order/events?ticket=${ticket}`, null)
    await openEvents(`${s.url}/v1/orders/${order.id}/events?ticket=${ticket.slice(0, -3)}abc`, null)
    await s.request('GET', `/v1/me?ticket=${ticket}`)
    await s.request('GET', `/v1/no-such-route?ticket=${ticket}`)
    await s.request('POST', `/v1/orders/${order.id}/events?ticket=${ticket}`)
    // Access lines are buffered (flushed every 200 ms): wait for all six before reading them.
    await eventually(() => expect(logLines.slice(seen).filter((line) => line.includes('"msg":"request"')).length).toBeGreaterThanOrEqual(6))
    const lines = logLines.slice(seen)
    const signature = ticket.split('.')[2]!
    for (const line of lines) {
      expect(line).not.toContain(signature)
      expect(line).not.toContain('ticket=ey')
    }
  })

  test('the last line of defence: a ticket quoted in any logged text is redacted', () => {
    const lines: string[] = []
    createLogger('debug', (line) => lines.push(line)).warn('odd request', { url: '/v1/orders/1/events?ticket=abc.def-ghi&x=1', detail: 'GET /v1/x?access_token=secret' })
    expect(lines[0]).toContain('ticket=[redacted]&x=1')
    expect(lines[0]).toContain('access_token=[redacted]')
    expect(lines[0]).not.toContain('abc.def-ghi')
    expect(lines[0]).not.toContain('secret')
  })
})

describe('CORS for a storefront on a listed origin', () => {
  test('a preflight may send Last-Event-ID; the stream answers with the origin allowed', async () => {
    const { u, order } = await shopping(s).placedOrder()
    const preflight = await fetch(`${s.url}/v1/orders/${order.id}/events`, {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'last-event-id' },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('last-event-id')
    const stream = await openEvents(eventsUrl(order.id, await ticketOf(u.token)), null, undefined, { origin: ORIGIN })
    expect(stream.response.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    stream.close()
  })
})

describe('at most 10 open streams per user', () => {
  test('the 11th answers 429 rate_limited with Retry-After; closing one frees a slot; other users are not counted', async () => {
    const { u, order } = await shopping(s).placedOrder()
    const open = []
    for (let i = 0; i < 10; i++) {
      const stream = await openEvents(eventsUrl(order.id), u.token)
      expect(stream.response.status).toBe(200)
      open.push(stream)
    }
    const refused = await openEvents(eventsUrl(order.id, await ticketOf(u.token)), null)
    expect(refused.response.status).toBe(429)
    expect(await refused.response.json()).toMatchObject({ code: 'rate_limited', status: 429 })
    expect(Number(refused.response.headers.get('retry-after'))).toBeGreaterThan(0)
    const admin = await s.admin()
    const adminStream = await openEvents(eventsUrl(order.id), admin.token)
    expect(adminStream.response.status).toBe(200)
    adminStream.close()
    open.pop()!.close()
    const again = await eventually(async () => {
      const stream = await openEvents(eventsUrl(order.id), u.token)
      expect(stream.response.status).toBe(200)
      return stream
    })
    for (const stream of [...open, again]) stream.close()
  })

  test('a stream that ends by itself (a final status) gives its slot back', async () => {
    const { u, order } = await shopping(s).placedOrder()
    await s.request('DELETE', `/v1/orders/${order.id}`, { token: u.token })
    for (let i = 0; i < 12; i++) {
      const stream = await openEvents(eventsUrl(order.id), u.token)
      expect(stream.response.status).toBe(200)
      await eventually(() => expect(stream.ended).toBe(true))
    }
  })
})

describe('counted across instances on Redis', () => {
  let redis: Awaited<ReturnType<typeof testRedis>>
  let a: TestShop
  let b: TestShop
  beforeAll(async () => {
    redis = await testRedis()
    a = await startShop({ redis })
    b = await startShop({ redis, databaseUrl: a.config.DATABASE_URL, env: { JWT_SECRET: a.config.JWT_SECRET, DATA_KEY: a.config.DATA_KEY } })
  })
  afterAll(async () => {
    await b.close()
    await a.close()
    await redis.cleanup()
  })

  test('5 streams on one instance and 5 on the other fill the 10; the 11th is refused on either', async () => {
    const { u, order } = await shopping(a).placedOrder()
    const open = []
    for (const shop of [a, b, a, b, a, b, a, b, a, b]) {
      const stream = await openEvents(`${shop.url}/v1/orders/${order.id}/events`, u.token)
      expect(stream.response.status).toBe(200)
      open.push(stream)
    }
    for (const shop of [a, b]) expect((await openEvents(`${shop.url}/v1/orders/${order.id}/events`, u.token)).response.status).toBe(429)
    open.shift()!.close()
    const freed = await eventually(async () => {
      const stream = await openEvents(`${b.url}/v1/orders/${order.id}/events`, u.token)
      expect(stream.response.status).toBe(200)
      return stream
    })
    for (const stream of [...open, freed]) stream.close()
  })
})
