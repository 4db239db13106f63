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

export function accessTokens(secret: string): AccessTokens {
  const signer = jwt({ name: 'jwt', secret, alg: 'HS256', iss: ISSUER, aud: AUDIENCE }).decorator.jwt
  const verifiedClaims = claimsVerifier(secret)
  return {
    sign: ({ id, roles, sid }) => signer.sign({ sub: id, roles, sid, typ: 'access', exp: `${ACCESS_TOKEN_TTL_SECONDS}s` }),
    verify(token) {
      const claims = verifiedClaims(token)
      if (!claims) return null
      const { iss, aud, sub, exp, iat, typ, roles, sid } = claims
      const now = Date.now() / 1000
      if (iss !== ISSUER || !hasAudience(aud) || typ !== 'access' || typeof sub !== 'string' || !sub) return null
      if (typeof exp !== 'number' || exp <= now || typeof iat !== 'number' || iat > now + CLOCK_SKEW_SECONDS || now - iat > MAX_TOKEN_AGE_SECONDS) return null
      if (!Array.isArray(roles) || !roles.every((role) => ROLES.includes(role))) return null
      return { id: sub, roles: roles as Role[], sid: typeof sid === 'string' ? sid : undefined }
    },
  }
}

const BEARER = /^Bearer\s+(\S+)$/i

/**
 * The principal of the request's bearer token: undefined without one, null when it is not
 * valid. Verified at most once per request: the rate limiter asks on arrival, auth later.
 */
export function bearerOf(request: Request, tokens: AccessTokens): Principal | null | undefined {
  const state = stateOf(request) ?? arrive(request)
  if (!('bearer' in state)) {
    const token = request.headers.get('authorization')?.match(BEARER)?.[1]
    state.bearer = token === undefined ? undefined : tokens.verify(token)
  }
  return state.bearer
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

/**
 * `auth: 'user' | 'customer' | 'admin'` on a route. Identity is checked in `transform`
 * so a caller without a valid token gets 401 before any body validation (422). Only admin
 * routes wait (for the roles in the database); the others are checked synchronously, with
 * the header read off the request (asking for `headers` makes the framework copy them all).
 */
export const auth = ({ tokens, currentRoles, isRevoked }: AuthOptions) => {
  const identify = (request: Request, audience: Audience): Principal => {
    const principal = bearerOf(request, tokens)
    if (principal === undefined) throw unauthorized()
    if (!principal) throw unauthorized('The access token is invalid or expired')
    if (isRevoked?.(principal.id)) throw unauthorized('The account no longer exists')
    if (audience === 'customer' && !principal.roles.includes('customer')) throw forbidden()
    return principal
  }
  /** Recorded once every check passed: a refused request is not logged as the token's user. */
  const authenticated = (request: Request, principal: Principal) => {
    ;(stateOf(request) ?? arrive(request)).principal = principal
  }
  const asAdmin = async (request: Request) => {
    const principal = identify(request, 'admin')
    const roles = await currentRoles(principal.id)
    if (!roles) throw unauthorized('The account no longer exists')
    if (!roles.includes('admin')) throw forbidden()
    principal.roles = roles
    authenticated(request, principal)
  }
  return new Elysia({ name: 'auth' }).macro({
    auth: (audience: Audience) => ({
      detail: { security: [{ bearerAuth: [] }] },
      transform:
        audience === 'admin'
          ? ({ request }: { request: Request }) => asAdmin(request)
          : ({ request }: { request: Request }) => authenticated(request, identify(request, audience)),
      resolve: ({ request }) => ({ user: principalOf(request)! }),
    }),
  })
}

export type AuthPlugin = ReturnType<typeof auth>
