import { expect, test } from 'bun:test'
import { SignJWT } from 'jose'
import { accessTokens } from '../src/plugins/auth'
import { tokenSubject } from '../src/lib/token-subject'

const secret = 'k'.repeat(32)
const now = Date.now()

test('the user of an access token this service signed, while it is unexpired', async () => {
  const token = await accessTokens(secret).sign({ id: 'user-1', roles: ['customer'] })
  expect(tokenSubject(token, secret, now)).toBe('user-1')
  // Access tokens live 15 minutes.
  expect(tokenSubject(token, secret, now + 16 * 60_000)).toBeUndefined()
})

test('nothing for a token it did not sign: another key, a changed payload or signature, alg none, no JWT at all', async () => {
  const token = await accessTokens(secret).sign({ id: 'user-1', roles: ['customer'] })
  const [header, payload, signature] = token.split('.') as [string, string, string]
  const otherPayload = Buffer.from(JSON.stringify({ sub: 'user-2', exp: now / 1000 + 600 })).toString('base64url')
  const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${otherPayload}.`
  for (const bad of [
    await accessTokens('o'.repeat(32)).sign({ id: 'user-1', roles: ['customer'] }),
    `${header}.${otherPayload}.${signature}`,
    `${header}.${payload}.${signature.slice(0, -2)}`,
    none,
    'not-a-jwt',
    'a.b.c.d',
  ]) {
    expect(tokenSubject(bad, secret, now)).toBeUndefined()
  }
})

test('nothing for a signed token without sub or exp', async () => {
  const key = new TextEncoder().encode(secret)
  const noExp = await new SignJWT({ sub: 'user-1' }).setProtectedHeader({ alg: 'HS256' }).sign(key)
  const noSub = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(key)
  expect(tokenSubject(noExp, secret, now)).toBeUndefined()
  expect(tokenSubject(noSub, secret, now)).toBeUndefined()
})
