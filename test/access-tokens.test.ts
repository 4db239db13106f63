import { expect, test } from 'bun:test'
import { SignJWT } from 'jose'
import { accessTokens } from '../src/lib/access-tokens'

const secret = 'k'.repeat(32)
const tokens = accessTokens(secret)
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')

test('a token this service signed verifies to its principal', async () => {
  const token = await tokens.sign({ id: 'user-1', roles: ['customer', 'admin'], sid: 'session-1' })
  expect(tokens.verify(token)).toEqual({ id: 'user-1', roles: ['customer', 'admin'], sid: 'session-1' })
})

test('anything else is refused: another key, an edited payload or header, a non-canonical or cut signature, alg none, not a JWT', async () => {
  const token = await tokens.sign({ id: 'user-1', roles: ['customer'] })
  const [header, payload, signature] = token.split('.') as [string, string, string]
  const now = Math.floor(Date.now() / 1000)
  const claims = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'user-2' }
  for (const bad of [
    await accessTokens('o'.repeat(32)).sign({ id: 'user-1', roles: ['customer'] }),
    `${header}.${b64(claims)}.${signature}`,
    `${b64({ alg: 'HS512', typ: 'JWT' })}.${payload}.${signature}`,
    `${header}.${payload}.${signature.slice(0, -2)}`,
    `${header}.${payload}.${signature}=`,
    `${b64({ alg: 'none' })}.${b64({ ...claims, iat: now, exp: now + 600 })}.`,
    'not-a-jwt',
    'a.b.c.d',
    '..',
  ]) {
    expect(tokens.verify(bad)).toBeNull()
  }
})

test('claims are checked: issuer, audience, type, sub, exp, iat and roles', async () => {
  const key = new TextEncoder().encode(secret)
  const good = { sub: 'user-1', roles: ['customer'], typ: 'access', iss: 'shop', aud: 'shop-api' }
  const make = (claims: Record<string, unknown>, exp: number | string | null = '10m', iat: number | null = Math.floor(Date.now() / 1000)) => {
    let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' })
    if (exp !== null) jwt = jwt.setExpirationTime(exp)
    if (iat !== null) jwt = jwt.setIssuedAt(iat)
    return jwt.sign(key)
  }
  expect(tokens.verify(await make(good))).not.toBeNull()
  expect(tokens.verify(await make({ ...good, aud: ['other', 'shop-api'] }))).not.toBeNull()
  for (const bad of [
    await make({ ...good, iss: 'evil' }),
    await make({ ...good, aud: 'other' }),
    await make({ ...good, typ: 'refresh' }),
    await make({ ...good, sub: 42 }),
    await make({ ...good, roles: ['root'] }),
    await make({ ...good, roles: 'customer' }),
    await make(good, null),
    await make(good, Math.floor(Date.now() / 1000) - 1),
    await make(good, '10m', null),
    await make(good, '10m', Math.floor(Date.now() / 1000) + 3600),
    await make(good, '10m', Math.floor(Date.now() / 1000) - 3600),
  ]) {
    expect(tokens.verify(bad)).toBeNull()
  }
})
