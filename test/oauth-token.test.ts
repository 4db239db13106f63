import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startShop, type TestShop } from './support/harness'

let s: TestShop
beforeAll(async () => {
  // The login limits on (the harness turns them off): the token endpoint shares them.
  s = await startShop({ env: { RATE_LIMIT: 'on', RATE_LIMIT_AUTH_EMAIL: '3/1m', RATE_LIMIT_AUTH_IP: '1000/1m', ADMIN_EMAIL: 'boss@example.com', ADMIN_PASSWORD: 'boss password' } })
})
afterAll(() => s.close())

/** What Swagger UI's Authorize sends for the password flow: the form, and Basic of an empty client id and secret. */
const token = (fields: Record<string, string>, headers: Record<string, string> = { authorization: `Basic ${btoa(':')}` }) =>
  s.request('POST', '/v1/auth/token', { raw: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } })

describe('POST /v1/auth/token (RFC 6749)', () => {
  test('the password grant signs in, with scope and client_id accepted and ignored', async () => {
    const res = await token({ grant_type: 'password', username: 'boss@example.com', password: 'boss password', scope: '', client_id: '' })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 900, refresh_token: expect.any(String) })
    expect(res.headers.get('cache-control')).toBe('no-store')
    const me = await s.request('GET', '/v1/users', { token: res.body.access_token })
    expect(me.status).toBe(200)
  })

  test('the refresh_token grant rotates as /v1/auth/refresh does', async () => {
    const u = await s.register()
    const res = await token({ grant_type: 'refresh_token', refresh_token: u.refresh_token }, {})
    expect(res.status).toBe(200)
    expect(res.body.refresh_token).not.toBe(u.refresh_token)
    expect((await s.request('GET', '/v1/me', { token: res.body.access_token })).status).toBe(200)
  })

  test('refusals are problem+json with the OAuth error member', async () => {
    const u = await s.register()
    const cases = [
      [{ grant_type: 'password', username: u.email, password: 'wrong password' }, 400, 'invalid_grant'],
      [{ grant_type: 'password', username: 'nobody@example.com', password: 'whatever it is' }, 400, 'invalid_grant'],
      [{ grant_type: 'refresh_token', refresh_token: 'not-a-token' }, 400, 'invalid_grant'],
      [{ grant_type: 'client_credentials' }, 400, 'unsupported_grant_type'],
      [{ grant_type: 'password', username: u.email }, 400, 'invalid_request'],
    ] as const
    for (const [fields, status, error] of cases) {
      const res = await token(fields)
      expect({ fields, status: res.status, type: res.headers.get('content-type') }).toEqual({ fields, status, type: 'application/problem+json' })
      expect(res.body).toMatchObject({ status, code: error, error })
    }
  })

  test('a disabled account is refused: 403 account_disabled, for the password and the refresh_token grant', async () => {
    const u = await s.register()
    const admin = await s.admin()
    expect((await s.request('PATCH', `/v1/users/${u.id}`, { token: admin.token, body: { disabled: true } })).status).toBe(200)
    const password = await token({ grant_type: 'password', username: u.email, password: u.password })
    expect(password.status).toBe(403)
    expect(password.body).toMatchObject({ code: 'account_disabled', error: 'account_disabled' })
    const refresh = await token({ grant_type: 'refresh_token', refresh_token: u.refresh_token })
    expect(refresh.status).toBe(400)
    expect(refresh.body).toMatchObject({ error: 'invalid_grant' })
  })

  test('it takes the form only: JSON is 415, an unknown field 422', async () => {
    const json = await s.request('POST', '/v1/auth/token', { body: { grant_type: 'password', username: 'a@b.c', password: 'x' } })
    expect(json.status).toBe(415)
    expect((await token({ grant_type: 'password', username: 'a@b.c', password: 'x', extra: '1' })).status).toBe(422)
  })

  test('it has the login limits: per email, across /login and the token endpoint', async () => {
    // Registering was the first of three.
    const u = await s.register()
    const login = await s.request('POST', '/v1/auth/login', { body: { email: u.email, password: 'wrong password' } })
    const viaToken = await token({ grant_type: 'password', username: u.email, password: 'wrong' })
    expect([login.status, viaToken.status]).toEqual([401, 400])
    const limited = await token({ grant_type: 'password', username: u.email, password: 'wrong' })
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBeString()
  })
})
