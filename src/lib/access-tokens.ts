import { jwt } from '@elysiajs/jwt'
import { safeEqual } from './crypto'

const ROLES = ['customer', 'admin'] as const
export type Role = (typeof ROLES)[number]

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60
/** A stream ticket sits in a URL (EventSource cannot send headers): short-lived, and good for event streams only. */
export const STREAM_TICKET_TTL_SECONDS = 5 * 60
const ISSUER = 'shop'
const AUDIENCE = 'shop-api'

export interface Principal {
  id: string
  roles: Role[]
  /** The session the token was issued for (login or refresh). */
  sid?: string
}

/**
 * Signs and verifies access tokens and stream tickets: HS256 only, `iss`/`aud`/`sub`/`exp`/`iat`
 * required, `typ` `access` or `stream`, so neither is ever taken for the other.
 */
export interface AccessTokens {
  sign(principal: Principal): Promise<string>
  /** Synchronous: it runs on every authenticated request, the flash-sale entry included. */
  verify(token: string): Principal | null
  /** A ticket for `?ticket=` on event streams (`STREAM_TICKET_TTL_SECONDS`). */
  signTicket(principal: Principal): Promise<string>
  verifyTicket(ticket: string): Principal | null
}

type TokenType = 'access' | 'stream'
const LIFETIME_SECONDS: Record<TokenType, number> = { access: ACCESS_TOKEN_TTL_SECONDS, stream: STREAM_TICKET_TTL_SECONDS }
const CLOCK_SKEW_SECONDS = 60
const KNOWN_ROLES: readonly unknown[] = ROLES

const utf8 = new TextDecoder('utf-8', { fatal: true })
const fromBase64url = (part: string): Uint8Array => (Uint8Array as unknown as { fromBase64(text: string, options: { alphabet: 'base64url' }): Uint8Array }).fromBase64(part, { alphabet: 'base64url' })

const decodeJson = (part: string): Record<string, unknown> | null => {
  try {
    const value = JSON.parse(utf8.decode(fromBase64url(part)))
    return value && typeof value === 'object' && !Array.isArray(value) ? value : null
  } catch {
    return null
  }
}

/** The header of every token we sign, compared as text: our own tokens skip decoding it. */
const SIGNED_HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')

/**
 * The claims of a compact JWS whose header says HS256 and whose signature is exactly the
 * HMAC-SHA256 of `header.payload` under `secret`, else null. Signing stays with
 * @elysiajs/jwt (jose); verifying through jose's WebCrypto path measured ~70 µs a call
 * against ~3 µs for this, on the hottest paths of the service. The HMAC starts from a copy
 * of a hasher already keyed with the secret (the key schedule is done once).
 */
function claimsVerifier(secret: string) {
  const keyed = new Bun.CryptoHasher('sha256', secret)
  return (token: string) => {
    // Sliced at its two dots rather than split: no array a request.
    const first = token.indexOf('.')
    const last = token.lastIndexOf('.')
    if (first < 0 || token.indexOf('.', first + 1) !== last) return null
    const header = token.slice(0, first)
    if (header !== SIGNED_HEADER && decodeJson(header)?.alg !== 'HS256') return null
    const expected = keyed.copy().update(token.slice(0, last)).digest('base64url')
    return safeEqual(token.slice(last + 1), expected) ? decodeJson(token.slice(first + 1, last)) : null
  }
}

const hasAudience = (aud: unknown) => aud === AUDIENCE || (Array.isArray(aud) && aud.includes(AUDIENCE))

export function accessTokens(secret: string): AccessTokens {
  const signer = jwt({ name: 'jwt', secret, alg: 'HS256', iss: ISSUER, aud: AUDIENCE }).decorator.jwt
  const verifiedClaims = claimsVerifier(secret)
  const signAs = (type: TokenType, { id, roles, sid }: Principal) => signer.sign({ sub: id, roles, sid, typ: type, exp: `${LIFETIME_SECONDS[type]}s` })
  const verifyAs = (type: TokenType, token: string): Principal | null => {
    const claims = verifiedClaims(token)
    if (!claims) return null
    const { iss, aud, sub, exp, iat, typ, roles, sid } = claims
    const now = Date.now() / 1000
    if (iss !== ISSUER || !hasAudience(aud) || typ !== type || typeof sub !== 'string' || !sub) return null
    if (typeof exp !== 'number' || exp <= now || typeof iat !== 'number' || iat > now + CLOCK_SKEW_SECONDS || now - iat > LIFETIME_SECONDS[type] + 60) return null
    if (!Array.isArray(roles) || !roles.every((role) => KNOWN_ROLES.includes(role))) return null
    return { id: sub, roles: roles as Role[], sid: typeof sid === 'string' ? sid : undefined }
  }
  return {
    sign: (principal) => signAs('access', principal),
    verify: (token) => verifyAs('access', token),
    signTicket: (principal) => signAs('stream', principal),
    verifyTicket: (ticket) => verifyAs('stream', ticket),
  }
}
