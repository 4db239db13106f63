// The password policy (register, password change, the configured admin) and the dummy hash
// an unknown email is verified against, made at start.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { dictionary } from '@zxcvbn-ts/language-common'
import { startShop, type TestShop } from './support/harness'
import { argon2id } from '../src/modules/accounts'

let s: TestShop
let hashes = 0
beforeAll(async () => {
  const real = argon2id(1024, 1)
  s = await startShop({ deps: { passwords: { hash: (p) => (hashes++, real.hash(p)), verify: real.verify } } })
})
afterAll(() => s.close())

const register = (password: string, email = `p${crypto.randomUUID().slice(0, 8)}@example.com`) => s.request('POST', '/v1/auth/register', { body: { email, name: 'P', password } })

describe('422 weak_password', () => {
  test.each([
    ['four emoji (8 UTF-16 units, 4 characters)', '🙂🙂🙂🙂'],
    ['seven characters', 'abcdefg'],
    ['eight spaces', '        '],
    ['only white space of other kinds', ' \t \u00a0 \u2003  '],
    ['a common password', 'password'],
    ['a common password in other case', 'PassWord'],
    ['a common password with digits', 'password123'],
    ['iloveyou1 (rank ~6,600 of the list)', 'iloveyou1'],
  ])('%s', async (_, password) => {
    const res = await register(password)
    expect(res.status).toBe(422)
    expect(res.body.code).toBe('weak_password')
    expect(res.body.errors).toEqual([{ field: 'password', message: expect.any(String) }])
  })

  test('the email, or its local part, in any case', async () => {
    for (const password of ['Maria.Silva@Example.com', 'maria.silva@example.com', 'MARIA.SILVA']) {
      const res = await register(password, 'maria.silva@example.com')
      expect(res.body.code).toBe('weak_password')
    }
  })

  test('the list is the maintained one: every one of its first 10,000 entries long enough to be typed is refused', async () => {
    const { passwordWeakness } = await import('../src/modules/accounts/password-policy')
    const top = (dictionary['passwords-common'] as string[]).slice(0, 10_000).filter((p) => [...p].length >= 8)
    expect(top.length).toBeGreaterThan(3000)
    expect(top.filter((p) => passwordWeakness(p.toUpperCase(), 'someone@example.com') === undefined)).toEqual([])
    // Past the 10,000th it is not the policy's business.
    const later = (dictionary['passwords-common'] as string[]).slice(20_000).find((p) => [...p].length >= 8 && !top.includes(p.toLowerCase()))!
    expect(passwordWeakness(later, 'someone@example.com')).toBeUndefined()
  })

  test('a password change is held to the same policy; the old password stays', async () => {
    const u = await s.register()
    const weak = await s.request('PUT', '/v1/me/password', { token: u.token, body: { current_password: u.password, new_password: 'qwertyuiop' } })
    expect(weak.status).toBe(422)
    expect(weak.body).toMatchObject({ code: 'weak_password', errors: [{ field: 'new_password' }] })
    const own = await s.request('PUT', '/v1/me/password', { token: u.token, body: { current_password: u.password, new_password: u.email.split('@')[0] } })
    expect(own.body.code).toBe('weak_password')
    expect((await s.request('POST', '/v1/auth/login', { body: { email: u.email, password: u.password } })).status).toBe(200)
  })
})

test('a long passphrase of any script is fine', async () => {
  expect((await register('correct horse battery staple')).status).toBe(201)
  expect((await register('сложный пароль')).status).toBe(201)
  expect((await register('🙂🙂🙂🙂🙂🙂🙂🙂')).status).toBe(201)
})

test('the dummy hash for unknown emails exists once the service has started: the first such login hashes nothing', async () => {
  const fresh = await startShop({ deps: { passwords: { hash: (p) => (hashes++, argon2id(1024, 1).hash(p)), verify: argon2id(1024, 1).verify } } })
  try {
    hashes = 0
    const res = await fresh.request('POST', '/v1/auth/login', { body: { email: 'nobody@example.com', password: 'whatever it is' } })
    expect(res.status).toBe(401)
    expect(hashes).toBe(0)
  } finally {
    await fresh.close()
  }
})

test('a weak ADMIN_PASSWORD stops the start-up, naming the setting', async () => {
  const failed = await startShop({ env: { ADMIN_EMAIL: 'boss@example.com', ADMIN_PASSWORD: 'password1' } }).then(
    (shop) => shop.close().then(() => undefined),
    (error: unknown) => error,
  )
  expect(failed).toMatchObject({ name: 'StartupError', problems: [{ setting: 'ADMIN_PASSWORD' }] })
})
