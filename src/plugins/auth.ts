import { Elysia } from 'elysia'
import type { AccessTokens, Principal, Role } from '../lib/access-tokens'
import { forbidden, unauthorized } from '../lib/errors'
import { arrive, stateOf } from './request-state'
import type { StreamLimit } from './stream-limit'

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
/** Who may open an event stream (admins are re-checked by the service that serves it). */
export type StreamAudience = Exclude<Audience, 'admin'>

export interface AuthOptions {
  tokens: AccessTokens
  /** Current roles of a live account, or null: admin routes never trust a token's roles. */
  currentRoles(userId: string): Promise<Role[] | null>
  /** True for an account erased within a token's lifetime (checked in memory, no SQL). */
  isRevoked?(userId: string): boolean
  /** Holds one of the user's stream slots while an event stream is open (429 when none is free). */
  streamLimit?: StreamLimit
}

/** Who this request is authenticated as, once the auth macro has run (logs read it). */
const principalOf = (request: Request) => stateOf(request)?.principal

/**
 * `auth: 'user' | 'customer' | 'admin'` on a route. Identity is checked in `transform`
 * so a caller without a valid token gets 401 before any body validation (422). Only admin
 * routes wait (for the roles in the database); the others are checked synchronously, with
 * the header read off the request (asking for `headers` makes the framework copy them all).
 */
export const auth = ({ tokens, currentRoles, isRevoked, streamLimit }: AuthOptions) => {
  const identify = (request: Request, audience: Audience, principal = bearerOf(request, tokens)): Principal => {
    if (principal === undefined) throw unauthorized()
    if (!principal) throw unauthorized('The access token is invalid or expired')
    if (isRevoked?.(principal.id)) throw unauthorized('The account is disabled or no longer exists')
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
  /** A stream ticket stands in for the bearer token (EventSource cannot send headers), on event streams only. */
  const streamPrincipal = (request: Request, ticket: unknown) => {
    if (typeof ticket !== 'string') return bearerOf(request, tokens)
    const principal = tokens.verifyTicket(ticket)
    if (!principal) throw unauthorized('The stream ticket is invalid or expired: get a new one (POST /v1/auth/stream-ticket)')
    return principal
  }
  return new Elysia({ name: 'auth' }).macro({
    auth: (audience: Audience) => ({
      detail: { security: [{ password: [] }, { bearerAuth: [] }] },
      // A block, not `=> authenticated(…)`: the framework awaits any hook whose source reads like that (src/plugins/http-errors.ts).
      transform:
        audience === 'admin'
          ? ({ request }: { request: Request }) => asAdmin(request)
          : ({ request }: { request: Request }) => {
              authenticated(request, identify(request, audience))
            },
      resolve: ({ request }) => ({ user: principalOf(request)! }),
    }),
    /** An event stream: the bearer token or `?ticket=` (POST /v1/auth/stream-ticket), and a slot of the user's while it is open. */
    stream: (audience: StreamAudience) => ({
      detail: { security: [{ password: [] }, { bearerAuth: [] }, { streamTicket: [] }] },
      transform: ({ request, query }: { request: Request; query: Record<string, unknown> }) => authenticated(request, identify(request, audience, streamPrincipal(request, query.ticket))),
      resolve: ({ request }) => ({ user: principalOf(request)! }),
      afterHandle: ({ request, responseValue }) => streamLimit?.hold(principalOf(request)!.id, responseValue),
    }),
  })
}

export type AuthPlugin = ReturnType<typeof auth>
