import { timingSafeEqual } from 'node:crypto'

/**
 * The `sub` of an HS256 token signed with `secret` whose `exp` is still ahead, else undefined.
 * A key for the rate limiter, which must know a request's user before authentication runs
 * (auth.ts's full check costs ~70 µs through WebCrypto; this HMAC ~1 µs). Never an identity:
 * issuer, audience, type and revocation are auth.ts's to check.
 */
export function tokenSubject(token: string, secret: string, nowMs: number): string | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  const [header, payload, signature] = parts as [string, string, string]
  const expected = new Bun.CryptoHasher('sha256', secret).update(`${header}.${payload}`).digest()
  const given = Buffer.from(signature, 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
  // Signed by this service, so the payload is its own JSON.
  const { sub, exp } = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { sub?: unknown; exp?: unknown }
  return typeof sub === 'string' && typeof exp === 'number' && exp * 1000 > nowMs ? sub : undefined
}
