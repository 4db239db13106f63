import { Elysia } from 'elysia'
import { jwt } from '@elysiajs/jwt'
import { forbidden, unauthorized } from '../lib/errors'
import type { Role } from '../modules/accounts/schema'

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60
const ISSUER = 'shop'
const AUDIENCE = 'shop-api'

export interface Principal {
  id: string
  roles: Role[]
  /** The session the token was issued for (login or refresh). */
  sid?: string
}

/** Signs and verifies access tokens: HS256 only, `iss`/`aud`/`sub`/`exp` required, `typ: access`. */
export interface AccessTokens {
  sign(principal: Principal): Promise<string>
  verify(token: string): Promise<Principal | null>
}

export function accessTokens(secret: string): AccessTokens {
  const signer = jwt({ name: 'jwt', secret, alg: 'HS256', iss: ISSUER, aud: AUDIENCE }).decorator.jwt
  return {
    sign: ({ id, roles, sid }) => signer.sign({ sub: id, roles, sid, typ: 'access', exp: `${ACCESS_TOKEN_TTL_SECONDS}s` }),
    async verify(token) {
      // The plugin's verify accepts any algorithm, issuer and missing exp unless told otherwise.
      const claims = await signer.verify(token, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ['exp', 'sub', 'iat'],
        maxTokenAge: ACCESS_TOKEN_TTL_SECONDS + 60,
      })
      if (!claims || claims.typ !== 'access' || typeof claims.sub !== 'string' || !Array.isArray(claims.roles)) return null
      return { id: claims.sub, roles: claims.roles as Role[], sid: typeof claims.sid === 'string' ? claims.sid : undefined }
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

const principals = new WeakMap<Request, Principal>()
/** Who this request is authenticated as, once the auth macro has run (rate limits and logs read it). */
export const principalOf = (request: Request) => principals.get(request)

const bearer = (header: string | undefined) => {
  const match = header?.match(/^Bearer\s+(\S+)$/i)
  return match?.[1]
}

/**
 * `auth: 'user' | 'customer' | 'admin'` on a route. Identity is checked in `transform`
 * so a caller without a valid token gets 401 before any body validation (422).
 */
export const auth = ({ tokens, currentRoles, isRevoked }: AuthOptions) =>
  new Elysia({ name: 'auth' }).macro({
    auth: (audience: Audience) => ({
      detail: { security: [{ bearerAuth: [] }] },
      async transform({ request, headers }) {
        const token = bearer(headers.authorization)
        if (!token) throw unauthorized()
        const principal = await tokens.verify(token)
        if (!principal) throw unauthorized('The access token is invalid or expired')
        if (isRevoked?.(principal.id)) throw unauthorized('The account no longer exists')
        if (audience === 'admin') {
          const roles = await currentRoles(principal.id)
          if (!roles) throw unauthorized('The account no longer exists')
          if (!roles.includes('admin')) throw forbidden()
          principal.roles = roles
        } else if (audience === 'customer' && !principal.roles.includes('customer')) {
          throw forbidden()
        }
        principals.set(request, principal)
      },
      resolve: ({ request }) => ({ user: principals.get(request)! }),
    }),
  })

export type AuthPlugin = ReturnType<typeof auth>
