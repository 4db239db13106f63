import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { SignJWT } from 'jose'
import { startShop, type TestShop } from './support/harness'

let s: TestShop
beforeAll(async () => {
  s = await startShop()
})
afterAll(() => s.close())

const sign = (claims: Record<string, unknown>, secret: string, alg = 'HS256', exp: number | string = '10m') =>
  new SignJWT(claims).setProtectedHeader({ alg }).setIssuedAt().setExpirationTime(exp).sign(new TextEncoder().encode(secret))

describe('register', () => {
  test('201 with a user and a token pair', async () => {
    const res = await s.request('POST', '/v1/auth/register', { body: { email: 'Maria@Example.com', name: 'Maria', password: 'a fine passphrase' } })
    expect(res.status).toBe(201)
    expect(res.body.user).toMatchObject({ email: 'maria@example.com', name: 'Maria', roles: ['customer'], address: null, photo_url: null })
    expect(res.body.token_type).toBe('Bearer')
    expect(res.body.expires_in).toBeLessThanOrEqual(900)
    expect(res.body.refresh_token).toBeString()
  })

  test('the same email in another case answers 409 email_taken', async () => {
    const res = await s.request('POST', '/v1/auth/register', { body: { email: 'MARIA@example.COM', name: 'M', password: 'a fine passphrase' } })
    expect(res.status).toBe(409)
    expect(res.body.code).toBe('email_taken')
    expect(res.headers.get('content-type')).toContain('application/problem+json')
  })

  test('roles cannot be mass-assigned', async () => {
    const res = await s.request('POST', '/v1/auth/register', { body: { email: 'mass@example.com', name: 'M', password: 'a fine passphrase', roles: ['admin'] } })
    expect(res.status).toBe(422)
    expect(res.body.code).toBe('validation_failed')
    expect(res.body.errors).toContainEqual(expect.objectContaining({ field: 'roles' }))
  })

  test.each([
    ['a bad email', { email: 'not-an-email', name: 'A', password: 'a fine passphrase' }, 'email'],
    ['an empty name', { email: 'e1@example.com', name: '', password: 'a fine passphrase' }, 'name'],
    ['a blank name', { email: 'e2@example.com', name: '   ', password: 'a fine passphrase' }, 'name'],
    ['a short password', { email: 'e3@example.com', name: 'A', password: 'short' }, 'password'],
    ['a long password', { email: 'e4@example.com', name: 'A', password: 'x'.repeat(129) }, 'password'],
    ['a missing field', { email: 'e5@example.com', password: 'a fine passphrase' }, 'name'],
  ])('422 for %s', async (_, body, field) => {
    const res = await s.request('POST', '/v1/auth/register', { body })
    expect(res.status).toBe(422)
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field)
  })

  test('16 parallel registrations of one email: exactly one 201', async () => {
    const body = { email: 'race@example.com', name: 'Racer', password: 'a fine passphrase' }
    const results = await Promise.all(Array.from({ length: 16 }, () => s.request('POST', '/v1/auth/register', { body })))
    const statuses = results.map((r) => r.status).sort()
    expect(statuses.filter((x) => x === 201)).toHaveLength(1)
    expect(statuses.filter((x) => x === 409)).toHaveLength(15)
  })
})

describe('login', () => {
  test('200 with the right password, the same 401 for a wrong one and an unknown email', async () => {
    const u = await s.register()
    const ok = await s.request('POST', '/v1/auth/login', { body: { email: u.email.toUpperCase(), password: u.password } })
    expect(ok.status).toBe(200)
    expect(ok.body.user.id).toBe(u.id)
    const wrong = await s.request('POST', '/v1/auth/login', { body: { email: u.email, password: 'wrong password' } })
    const unknown = await s.request('POST', '/v1/auth/login', { body: { email: 'nobody@example.com', password: 'wrong password' } })
    expect(wrong.status).toBe(401)
    expect(unknown.status).toBe(401)
    expect(wrong.body.code).toBe('invalid_credentials')
    expect(unknown.body.detail).toBe(wrong.body.detail)
  })
})

describe('refresh and logout', () => {
  test('rotation: the new pair works, the old refresh token does not', async () => {
    const u = await s.register()
    const first = await s.request('POST', '/v1/auth/refresh', { body: { refresh_token: u.refresh_token } })
    expect(first.status).toBe(200)
    expect(first.body.refresh_token).not.toBe(u.refresh_token)
    const me = await s.request('GET', '/v1/me', { token: first.body.access_token })
    expect(me.status).toBe(200)
    const again = await s.request('POST', '/v1/auth/refresh', { body: { refresh_token: first.body.refresh_token } })
    expect(again.status).toBe(200)
  })

  // Reuse of a rotated token (the overlap and past it): test/refresh-overlap.test.ts.

  test('an access token is not a refresh token', async () => {
    const u = await s.register()
    const res = await s.request('POST', '/v1/auth/refresh', { body: { refresh_token: u.access_token } })
    expect(res.status).toBe(401)
  })

  test('logout ends the session', async () => {
    const u = await s.register()
    const out = await s.request('POST', '/v1/auth/logout', { token: u.token, body: { refresh_token: u.refresh_token } })
    expect(out.status).toBe(204)
    const res = await s.request('POST', '/v1/auth/refresh', { body: { refresh_token: u.refresh_token } })
    expect(res.status).toBe(401)
  })

  test('logout needs a token', async () => {
    const res = await s.request('POST', '/v1/auth/logout', { body: { refresh_token: 'x' } })
    expect(res.status).toBe(401)
  })
})

describe('access tokens', () => {
  test('missing, garbage and wrong-scheme tokens answer 401', async () => {
    expect((await s.request('GET', '/v1/me')).status).toBe(401)
    expect((await s.request('GET', '/v1/me', { token: 'garbage' })).status).toBe(401)
    expect((await s.request('GET', '/v1/me', { headers: { authorization: 'Basic abc' } })).status).toBe(401)
  })

  test.each([
    [
      'alg none',
      async (id: string) => {
        const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
        const now = Math.floor(Date.now() / 1000)
        return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: id, roles: ['customer'], typ: 'access', iss: 'shop', aud: 'shop-api', iat: now, exp: now + 600 })}.`
      },
    ],
    ['HS512', (id: string) => sign({ sub: id, roles: ['customer'], typ: 'access', iss: 'shop', aud: 'shop-api' }, s.config.JWT_SECRET, 'HS512')],
    ['a foreign secret', (id: string) => sign({ sub: id, roles: ['customer'], typ: 'access', iss: 'shop', aud: 'shop-api' }, 'another-secret-another-secret-another')],
    ['a foreign issuer', (id: string) => sign({ sub: id, roles: ['customer'], typ: 'access', iss: 'evil', aud: 'shop-api' }, s.config.JWT_SECRET)],
    ['expired', (id: string) => sign({ sub: id, roles: ['customer'], typ: 'access', iss: 'shop', aud: 'shop-api' }, s.config.JWT_SECRET, 'HS256', Math.floor(Date.now() / 1000) - 60)],
    [
      'no exp',
      (id: string) =>
        new SignJWT({ sub: id, roles: ['customer'], typ: 'access', iss: 'shop', aud: 'shop-api' })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuedAt()
          .sign(new TextEncoder().encode(s.config.JWT_SECRET)),
    ],
    ['a refresh-typed token', (id: string) => sign({ sub: id, roles: ['customer'], typ: 'refresh', iss: 'shop', aud: 'shop-api' }, s.config.JWT_SECRET)],
  ])('%s is refused', async (_, make) => {
    const u = await s.createUser()
    const res = await s.request('GET', '/v1/me', { token: await make(u.id) })
    expect(res.status).toBe(401)
    expect(res.body.code).toBe('unauthorized')
  })

  test('an opaque refresh token is not an access token', async () => {
    const u = await s.register()
    expect((await s.request('GET', '/v1/me', { token: u.refresh_token })).status).toBe(401)
  })
})
