import { Elysia } from 'elysia'
import { jwt } from '@elysiajs/jwt'
import { safeEqual } from '../lib/crypto'
import { forbidden, unauthorized } from '../lib/errors'
import type { Role } from '../modules/accounts/schema'
import { arrive, stateOf } from './request-state'

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60
const ISSUER = 'shop'
const AUDIENCE = 'shop-api'

export interface Principal {
  id: string
  roles: Role[]
  /** The session the token was issued for (login or refresh). */
  sid?: string
}

/** Signs and verifies access tokens: HS256 only, `iss`/`aud`/`sub`/`exp`/`iat` required, `typ: access`. */
export interface AccessTokens {
  sign(principal: Principal): Promise<string>
  /** Synchronous: it runs on every authenticated request, the flash-sale entry included. */
  verify(token: string): Principal | null
}

const MAX_TOKEN_AGE_SECONDS = ACCESS_TOKEN_TTL_SECONDS + 60
const CLOCK_SKEW_SECONDS = 60
const ROLES: readonly string[] = ['customer', 'admin']

const decodeJson = (part: string): Record<string, unknown> | null => {
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
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
    const parts = token.split('.')
    if (parts.length !== 3) return null
    const [header, payload, signature] = parts as [string, string, string]
    if (header !== SIGNED_HEADER && decodeJson(header)?.alg !== 'HS256') return null
    const expected = keyed.copy().update(`${header}.${payload}`).digest('base64url')
    return safeEqual(signature, expected) ? decodeJson(payload) : null
  }
}

const hasAudience = (aud: unknown) => aud === AUDIENCE || (Array.isArray(aud) && aud.includes(AUDIENCE))

/** A token whose signature and fixed claims checked out; its times are checked at every use. */
interface Verified {
  principal: Principal
  exp: number
  iat: number
}

/** Tokens remembered once verified: a client sends one token with every request for up to 15 minutes. */
const VERIFIED_TOKENS = 10_000

const inTime = ({ exp, iat }: Verified, now: number) => exp > now && iat <= now + CLOCK_SKEW_SECONDS && now - iat <= MAX_TOKEN_AGE_SECONDS

export function accessTokens(secret: string): AccessTokens {
  const signer = jwt({ name: 'jwt', secret, alg: 'HS256', iss: ISSUER, aud: AUDIENCE }).decorator.jwt
  const verifiedClaims = claimsVerifier(secret)
  // Keyed by the whole token, signature included: only a token that verified can be found here.
  // Two generations: when the newer fills up it becomes the older and the older is dropped, so
  // tokens in use stay (a hit moves them forward) and eviction is O(1).
  let recent = new Map<string, Verified>()
  let older = new Map<string, Verified>()
  const remembered = (token: string) => {
    const hit = recent.get(token) ?? older.get(token)
    if (hit && !recent.has(token)) remember(token, hit)
    return hit
  }
  const remember = (token: string, entry: Verified) => {
    if (recent.size >= VERIFIED_TOKENS / 2) {
      older = recent
      recent = new Map()
    }
    recent.set(token, entry)
  }

  const check = (token: string): Verified | null => {
    const claims = verifiedClaims(token)
    if (!claims) return null
    const { iss, aud, sub, exp, iat, typ, roles, sid } = claims
    if (iss !== ISSUER || !hasAudience(aud) || typ !== 'access' || typeof sub !== 'string' || !sub) return null
    if (typeof exp !== 'number' || typeof iat !== 'number') return null
    if (!Array.isArray(roles) || !roles.every((role) => ROLES.includes(role))) return null
    return { principal: { id: sub, roles: roles as Role[], sid: typeof sid === 'string' ? sid : undefined }, exp, iat }
  }

  return {
    sign: ({ id, roles, sid }) => signer.sign({ sub: id, roles, sid, typ: 'access', exp: `${ACCESS_TOKEN_TTL_SECONDS}s` }),
    verify(token) {
      let known = remembered(token)
      if (!known) {
        const checked = check(token)
        if (!checked) return null
        remember(token, (known = checked))
      }
      if (!inTime(known, Date.now() / 1000)) return null
      // A copy: callers may change it (admin routes replace the roles with the stored ones).
      const { id, roles, sid } = known.principal
      return { id, roles: [...roles], sid }
    },
  }
}

/** Who may call a route: any signed-in user, a customer, or an admin (re-checked in the database). */
export type Audience = 'user' | 'customer' | 'admin'

export interface AuthOptions {
  tokens: AccessTokens
  /** Current roles of a live account, or null: admin routes never trust a token's roles. */
  currentRoles(userId: string): Promise<Role[] | null>
  /** True for an account erased within a token's lifetime (checked in memory, no SQL). */
  isRevoked?(userId: string): boolean
}

/** Who this request is authenticated as, once the auth macro has run (logs read it). */
export const principalOf = (request: Request) => stateOf(request)?.principal

const bearer = (header: string | null) => {
  const match = header?.match(/^Bearer\s+(\S+)$/i)
  return match?.[1]
}

/**
 * `auth: 'user' | 'customer' | 'admin'` on a route. Identity is checked in `transform`
 * so a caller without a valid token gets 401 before any body validation (422). Only admin
 * routes wait (for the roles in the database); the others are checked synchronously, with
 * the header read off the request (asking for `headers` makes the framework copy them all).
 */
export const auth = ({ tokens, currentRoles, isRevoked }: AuthOptions) => {
  const identify = (request: Request, audience: Audience): Principal => {
    const token = bearer(request.headers.get('authorization'))
    if (!token) throw unauthorized()
    const principal = tokens.verify(token)
    if (!principal) throw unauthorized('The access token is invalid or expired')
    if (isRevoked?.(principal.id)) throw unauthorized('The account no longer exists')
    if (audience === 'customer' && !principal.roles.includes('customer')) throw forbidden()
    ;(stateOf(request) ?? arrive(request)).principal = principal
    return principal
  }
  const asAdmin = async (request: Request) => {
    const principal = identify(request, 'admin')
    const roles = await currentRoles(principal.id)
    if (!roles) throw unauthorized('The account no longer exists')
    if (!roles.includes('admin')) throw forbidden()
    principal.roles = roles
  }
  return new Elysia({ name: 'auth' }).macro({
    auth: (audience: Audience) => ({
      detail: { security: [{ bearerAuth: [] }] },
      transform: audience === 'admin' ? ({ request }: { request: Request }) => asAdmin(request) : ({ request }: { request: Request }) => void identify(request, audience),
      resolve: ({ request }) => ({ user: principalOf(request)! }),
    }),
  })
}

export type AuthPlugin = ReturnType<typeof auth>
