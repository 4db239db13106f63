import { Elysia } from 'elysia'
import type { AccessTokens, Principal, Role } from '../lib/access-tokens'
import { forbidden, unauthorized } from '../lib/errors'
import { arrive, stateOf } from './request-state'

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
