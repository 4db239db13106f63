import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Elysia, type AnyElysia } from 'elysia'
import { startShop, type TestShop } from './support/harness'
import { testRedis } from './support/redis'
import { eventually } from './support/eventually'
import { ManualClock } from '../src/lib/clock'
import { httpErrors } from '../src/plugins/http-errors'
import { rateLimit, rateLimitClasses } from '../src/plugins/rate-limit'
import { auth } from '../src/plugins/auth'
import { accessTokens } from '../src/lib/access-tokens'
import { memoryLimiter } from '../src/infra/limiter/memory'
import { clientIp, trustedProxies } from '../src/lib/client-ip'
import { createLogger } from '../src/lib/logger'
import { routeIndex } from '../src/lib/route-index'

const LIMITS = {
  RATE_LIMIT: 'on',
  RATE_LIMIT_ANONYMOUS: '3/1m',
  RATE_LIMIT_USER: '4/1m',
  RATE_LIMIT_AUTH_IP: '5/1m',
  RATE_LIMIT_AUTH_EMAIL: '2/15m',
}
const photo = '/v1/photos/00000000-0000-0000-0000-000000000000.webp'
const from = (ip: string, chain = ip) => ({ headers: { 'x-forwarded-for': chain } })

describe('one instance, in-process limiter', () => {
  const clock = new ManualClock()
  let s: TestShop
  beforeAll(async () => {
    s = await startShop({ clock, env: { ...LIMITS, TRUSTED_PROXY: '127.0.0.1' } })
  })
  afterAll(() => s.close())

  test('anonymous routes: per IP, with RateLimit headers, 429 rate_limited with Retry-After, then recovery', async () => {
    const ip = '203.0.113.10'
    const seen = []
    for (let i = 0; i < 3; i++) {
      const res = await s.request('GET', photo, from(ip))
      expect(res.status).toBe(404)
      seen.push([res.headers.get('ratelimit-limit'), res.headers.get('ratelimit-remaining')])
    }
    expect(seen).toEqual([
      ['3', '2'],
      ['3', '1'],
      ['3', '0'],
    ])
    const limited = await s.request('GET', photo, from(ip))
    expect(limited.status).toBe(429)
    expect(limited.headers.get('content-type')).toContain('application/problem+json')
    expect(limited.body).toMatchObject({ status: 429, code: 'rate_limited' })
    expect(limited.headers.get('retry-after')).toBe('20')
    expect(limited.headers.get('ratelimit-remaining')).toBe('0')
    expect(Number(limited.headers.get('ratelimit-reset'))).toBe(60)
    // Another client is not affected.
    expect((await s.request('GET', photo, from('203.0.113.11'))).status).toBe(404)
    clock.advance(20_000)
    expect((await s.request('GET', photo, from(ip))).status).toBe(404)
    expect((await s.request('GET', photo, from(ip))).status).toBe(429)
  })

  test('a client cannot reset its limit by writing its own X-Forwarded-For hops', async () => {
    for (let i = 0; i < 3; i++) expect((await s.request('GET', photo, from('', `10.9.9.${i}, 198.51.100.7`))).status).toBe(404)
    // The proxy appends the real address last; anything before it is the client's own writing.
    const spoofed = await s.request('GET', photo, from('', `10.9.9.99, 198.51.100.7`))
    expect(spoofed.status).toBe(429)
  })

  test('authenticated routes: per user, whatever the address', async () => {
    const a = await s.createUser()
    const b = await s.createUser()
    for (let i = 0; i < 4; i++) expect((await s.request('GET', '/v1/me', { token: a.token, ...from(`192.0.2.${i}`) })).status).toBe(200)
    const limited = await s.request('GET', '/v1/me', { token: a.token, ...from('192.0.2.200') })
    expect(limited.status).toBe(429)
    expect(limited.headers.get('ratelimit-limit')).toBe('4')
    expect((await s.request('GET', '/v1/me', { token: b.token, ...from('192.0.2.1') })).status).toBe(200)
  })

  test('login: per (email, address), and per address across emails; the limit applies before the password is checked', async () => {
    const u = await s.register()
    const wrong = (email: string, ip: string) => s.request('POST', '/v1/auth/login', { body: { email, password: 'wrong password' }, ...from(ip) })
    expect((await wrong(u.email.toUpperCase(), '198.51.100.3')).status).toBe(401)
    expect((await wrong(u.email, '198.51.100.3')).status).toBe(401)
    const third = await wrong(u.email, '198.51.100.3')
    expect(third.status).toBe(429)
    expect(third.headers.get('ratelimit-limit')).toBe('2')
    // Even the right password waits there: guessing from that address gains nothing.
    expect((await s.request('POST', '/v1/auth/login', { body: { email: u.email, password: u.password }, ...from('198.51.100.3') })).status).toBe(429)
    // But the guesser holds no lock-out button: the owner, elsewhere, gets in.
    expect((await s.request('POST', '/v1/auth/login', { body: { email: u.email, password: u.password }, ...from('198.51.100.4') })).status).toBe(200)

    const ip = '198.51.100.50'
    const statuses = []
    for (let i = 0; i < 6; i++) statuses.push((await wrong(`nobody${i}@example.com`, ip)).status)
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429])
    clock.advance(15 * 60_000)
    expect((await s.request('POST', '/v1/auth/login', { body: { email: u.email, password: u.password }, ...from('198.51.100.3') })).status).toBe(200)
  })

  test('IPv6 clients are counted per /64: 22 addresses of one /64 share one budget', async () => {
    const statuses = []
    for (let i = 1; i <= 22; i++) statuses.push((await s.request('GET', photo, from(`2001:db8:aa:bb::${i.toString(16)}`))).status)
    expect(statuses.slice(0, 3)).toEqual([404, 404, 404])
    expect(new Set(statuses.slice(3))).toEqual(new Set([429]))
    // Written another way, still the same /64; the next /64 is another client.
    expect((await s.request('GET', photo, from('2001:0DB8:00AA:00BB:ffff:1:2:3'))).status).toBe(429)
    expect((await s.request('GET', photo, from('2001:db8:aa:bc::1'))).status).toBe(404)
  })

  test('probes and scrapes are not limited', async () => {
    for (let i = 0; i < 10; i++) expect((await s.request('GET', '/health')).status).toBe(200)
    expect((await s.request('GET', '/health')).headers.get('ratelimit-limit')).toBeNull()
  })

  test('racing requests from one client: exactly the limit gets through', async () => {
    const ip = '203.0.113.77'
    const answers = await Promise.all(Array.from({ length: 30 }, () => s.request('GET', photo, from(ip))))
    expect(answers.filter((r) => r.status === 404)).toHaveLength(3)
    expect(answers.filter((r) => r.status === 429)).toHaveLength(27)
  })
})

describe.each([['in-process'], ['Redis']])('counted on arrival, before authentication and validation (%s limiter)', (kind) => {
  const clock = new ManualClock()
  let s: TestShop
  let redis: Awaited<ReturnType<typeof testRedis>> | undefined
  beforeAll(async () => {
    redis = kind === 'Redis' ? await testRedis() : undefined
    s = await startShop({ clock, redis, env: { ...LIMITS, TRUSTED_PROXY: '127.0.0.1' } })
  })
  afterAll(async () => {
    await s.close()
    await redis?.cleanup()
  })
  const limitOf = (res: { headers: Headers }) => [res.headers.get('ratelimit-limit'), res.headers.get('ratelimit-remaining')]

  test('bad tokens are counted against the address: a racing flood of them gets exactly the limit of 401s, then 429s', async () => {
    const victim = await s.createUser()
    const [header, , signature] = victim.token.split('.')
    const forged = [
      'not-a-jwt',
      victim.token.slice(0, -4) + 'AAAA',
      // Another user's id in a payload this service never signed: it must not spend that user's budget.
      `${header}.${Buffer.from(JSON.stringify({ sub: victim.id, exp: 2e9 })).toString('base64url')}.${signature}`,
      await accessTokens('y'.repeat(32)).sign({ id: victim.id, roles: ['customer'] }),
    ]
    const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => s.request('GET', '/v1/me', { token: forged[i % 4], ...from('203.0.113.90') })))
    const unauthorized = answers.filter((r) => r.status === 401)
    expect(unauthorized).toHaveLength(3)
    expect(answers.filter((r) => r.status === 429)).toHaveLength(21)
    for (const r of unauthorized) expect(r.headers.get('ratelimit-limit')).toBe('3')
    // The victim's own budget is whole.
    expect(limitOf(await s.request('GET', '/v1/me', { token: victim.token, ...from('203.0.113.90') }))).toEqual(['4', '3'])
  })

  test("a 422, 400 or 415 on login spends the address's login budget and says so; then even the right password waits", async () => {
    const u = await s.register()
    const ip = from('198.51.100.60')
    const login = (opts: Parameters<TestShop['request']>[2]) => s.request('POST', '/v1/auth/login', { ...ip, ...opts })
    const seen = [
      await login({ body: { email: 'x' } }),
      await login({ raw: '{"email":', headers: { ...ip.headers, 'content-type': 'application/json' } }),
      await login({ raw: 'email=x', headers: { ...ip.headers, 'content-type': 'application/x-www-form-urlencoded' } }),
      await login({ body: { email: u.email, password: u.password, extra: 1 } }),
      await login({ body: {} }),
    ]
    expect(seen.map((r) => r.status)).toEqual([422, 400, 415, 422, 422])
    expect(seen.map(limitOf)).toEqual([
      ['5', '4'],
      ['5', '3'],
      ['5', '2'],
      ['5', '1'],
      ['5', '0'],
    ])
    const right = await login({ body: { email: u.email, password: u.password } })
    expect(right.status).toBe(429)
    expect(right.body.code).toBe('rate_limited')
  })

  test('unknown paths (404) and wrong methods (405) are counted and carry the headers', async () => {
    const ip = from('198.51.100.61')
    const seen = [await s.request('GET', '/no/such/path', ip), await s.request('PUT', '/v1/regions', ip), await s.request('POST', '/v1/nothing', { body: { a: 1 }, ...ip })]
    expect(seen.map((r) => r.status)).toEqual([404, 405, 404])
    expect(seen.map(limitOf)).toEqual([
      ['3', '2'],
      ['3', '1'],
      ['3', '0'],
    ])
    expect((await s.request('GET', '/no/such/path', ip)).status).toBe(429)
  })

  test('a signed-in user is counted per user on every route, failures included, before any check of theirs runs', async () => {
    const u = await s.createUser()
    const as = (method: string, path: string, body?: unknown) => s.request(method, path, { token: u.token, body, ...from('198.51.100.62') })
    const seen = [await as('GET', '/v1/regions'), await as('POST', '/v1/regions', { name: 'x' }), await as('PATCH', '/v1/me', { roles: ['admin'] }), await as('GET', '/v1/me')]
    // An anonymous route, an admin route (403 after a database read of roles), a 422, a 200.
    expect(seen.map((r) => r.status)).toEqual([200, 403, 422, 200])
    expect(seen.map(limitOf)).toEqual([
      ['4', '3'],
      ['4', '2'],
      ['4', '1'],
      ['4', '0'],
    ])
    expect((await as('POST', '/v1/regions', { name: 'x' })).status).toBe(429)
  })

  test('a 429 given on arrival is still counted under its route template', async () => {
    const ip = from('198.51.100.63')
    for (let i = 0; i < 4; i++) await s.request('GET', photo, ip)
    await eventually(async () => {
      const text = await (await fetch(s.url + '/metrics')).text()
      expect(text).toContain('http_requests_total{method="GET",route="/v1/photos/:key",status="429"}')
    })
  })
})

test('without a trusted proxy, X-Forwarded-For is ignored: the socket address is the key', async () => {
  const s = await startShop({ env: LIMITS })
  try {
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await s.request('GET', photo, from(`10.0.0.${i}`))).status)
    expect(statuses).toEqual([404, 404, 404, 429])
  } finally {
    await s.close()
  }
})

test('behind a proxy that sets the client address whole (Fly-Client-IP), that header is the key, and only from the proxy', async () => {
  const header = (ip: string) => ({ headers: { 'fly-client-ip': ip, 'x-forwarded-for': `${ip}, 10.1.1.1` } })
  const behind = await startShop({ env: { ...LIMITS, TRUSTED_PROXY: '127.0.0.0/8', CLIENT_IP_HEADER: 'Fly-Client-IP' } })
  const exposed = await startShop({ env: { ...LIMITS, CLIENT_IP_HEADER: 'Fly-Client-IP' } })
  try {
    const statuses = async (shop: TestShop, ips: string[]) => {
      const out = []
      for (const ip of ips) out.push((await shop.request('GET', photo, header(ip))).status)
      return out
    }
    expect(await statuses(behind, ['198.51.100.1', '198.51.100.1', '198.51.100.1', '198.51.100.1', '198.51.100.2'])).toEqual([404, 404, 404, 429, 404])
    expect(await statuses(exposed, ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4'])).toEqual([404, 404, 404, 429])
  } finally {
    await behind.close()
    await exposed.close()
  }
})

test('TRUSTED_PROXY takes addresses and CIDR ranges and refuses anything else', () => {
  const list = trustedProxies('10.0.0.0/8, 192.0.2.7, fdaa::/16')
  expect(clientIp('::ffff:10.2.3.4', new Headers({ 'x-forwarded-for': '1.1.1.1, 203.0.113.9' }), list)).toBe('203.0.113.9')
  expect(clientIp('fdaa:0:1::5', new Headers({ 'x-forwarded-for': '203.0.113.9' }), list)).toBe('203.0.113.9')
  expect(clientIp('192.0.2.8', new Headers({ 'x-forwarded-for': '203.0.113.9' }), list)).toBe('192.0.2.8')
  expect(clientIp('10.0.0.1', new Headers({ 'x-forwarded-for': 'not-an-ip' }), list)).toBe('10.0.0.1')
  expect(() => trustedProxies('10.0.0.0/8,localhost')).toThrow('TRUSTED_PROXY')
})

test('two instances on one Redis share the count', async () => {
  const redis = await testRedis()
  const clock = new ManualClock()
  const first = await startShop({ clock, redis, env: LIMITS })
  const second = await startShop({ clock, redis, env: LIMITS })
  try {
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? first : second).request('GET', photo)))
    expect(answers.filter((r) => r.status === 404)).toHaveLength(3)
    expect(answers.filter((r) => r.status === 429)).toHaveLength(9)
    clock.advance(60_000)
    expect((await first.request('GET', photo)).status).toBe(404)
  } finally {
    await first.close()
    await second.close()
    await redis.cleanup()
  }
})

test("flash-sale entries are counted per user in their own bucket; each request's token is verified once, though the limiter and auth both read it", async () => {
  const checker = accessTokens('x'.repeat(32))
  let verified = 0
  const tokens = { ...checker, verify: (token: string) => (verified++, checker.verify(token)) }
  const entries = '/v1/flash-sales/drops/:drop_id/entries'
  const clock = new ManualClock()
  const logger = createLogger('silent')
  const rate = (limit: number) => ({ limit, windowMs: 60_000 })
  const app: AnyElysia = new Elysia({ normalize: false })
    .use(httpErrors({ logger, multipartRoutes: [] }))
    .use(
      rateLimit({
        limiter: memoryLimiter(),
        clock,
        logger,
        trustedProxies: trustedProxies(undefined),
        clientIpHeader: 'x-forwarded-for',
        tokens,
        routes: routeIndex(() => app.routes),
        peerOf: (request) => app.server?.requestIP(request)?.address,
        rates: { anonymous: rate(100), user: rate(100), authIp: rate(100), authEmail: rate(100), authEmailBackstop: rate(100), register: rate(100), flashSaleEntry: rate(2) },
      }),
    )
    .use(auth({ tokens, currentRoles: async () => ['customer'] }))
    .use(rateLimitClasses)
    .post(entries, ({ user }) => ({ user: user.id }), { auth: 'customer', rateLimit: 'flash-sale-entry' })
    .get('/v1/me', ({ user }) => ({ user: user.id }), { auth: 'customer' })
    .listen({ hostname: '127.0.0.1', port: 0 })
  try {
    const call = async (method: string, path: string, id: string) =>
      (await fetch(`http://127.0.0.1:${app.server!.port}${path}`, { method, headers: { authorization: `Bearer ${await tokens.sign({ id, roles: ['customer'] })}` } })).status
    const enter = (id: string) => call('POST', '/v1/flash-sales/drops/d1/entries', id)
    expect([await enter('ana'), await enter('ana'), await enter('ana')]).toEqual([200, 200, 429])
    expect(verified).toBe(3)
    expect(await enter('bia')).toBe(200)
    // The general per-user budget is a separate bucket.
    expect(await call('GET', '/v1/me', 'ana')).toBe(200)
  } finally {
    await app.stop(true)
  }
})

describe('sign-ups and the per-email backstop', () => {
  const clock = new ManualClock()
  let s: TestShop
  beforeAll(async () => {
    s = await startShop({
      clock,
      env: { RATE_LIMIT: 'on', TRUSTED_PROXY: '127.0.0.1', RATE_LIMIT_AUTH_IP: '100/1m', RATE_LIMIT_AUTH_EMAIL: '6/15m', RATE_LIMIT_AUTH_EMAIL_BACKSTOP: '10/1h', RATE_LIMIT_REGISTER: '3/1h' },
    })
  })
  afterAll(() => s.close())
  const register = (ip: string) => s.request('POST', '/v1/auth/register', { body: { email: `${crypto.randomUUID()}@example.com`, name: 'Bot', password: 'a fine passphrase' }, ...from(ip) })

  test('registrations are limited per address (RATE_LIMIT_REGISTER), IPv6 per /64; logins from there are not', async () => {
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await register('203.0.113.30')).status)
    expect(statuses).toEqual([201, 201, 201, 429])
    expect((await register('203.0.113.31')).status).toBe(201)
    const v6 = []
    for (let i = 1; i <= 5; i++) v6.push((await register(`2001:db8:cafe:1::${i}`)).status)
    expect(v6).toEqual([201, 201, 201, 429, 429])
    const u = await s.register()
    expect((await s.request('POST', '/v1/auth/login', { body: { email: u.email, password: u.password }, ...from('203.0.113.30') })).status).toBe(200)
    clock.advance(20 * 60_000)
    expect((await register('203.0.113.30')).status).toBe(201)
  })

  test('guesses from many addresses spend the email backstop: then each address gets only its first 3 tries, and the owner still gets in', async () => {
    const u = await s.register()
    const login = (ip: string, password = 'wrong password') => s.request('POST', '/v1/auth/login', { body: { email: u.email, password }, ...from(ip) })
    // Before the backstop is spent, one address has its whole (email, address) budget of 6.
    const calm = []
    for (let i = 0; i < 7; i++) calm.push((await login('198.51.100.80')).status)
    expect(calm).toEqual([401, 401, 401, 401, 401, 401, 429])
    // With the register above, the backstop (10 an hour) has 3 left: a second address spends them.
    const guesser = []
    for (let i = 0; i < 5; i++) guesser.push((await login('198.51.100.81')).status)
    expect(guesser).toEqual([401, 401, 401, 429, 429])
    expect((await login('198.51.100.82')).status).toBe(401)
    // The owner, from an address of their own, on the first try.
    expect((await login('192.0.2.77', u.password)).status).toBe(200)
  })
})
