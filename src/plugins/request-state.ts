import { newId } from '../lib/ids'
import type { Principal } from '../lib/access-tokens'

/** What the plugins learn about a request as it passes through them. */
export interface RequestState {
  /** Echoed in `X-Request-Id`, problem bodies and logs. */
  readonly id: string
  /** `performance.now()` when the request log started timing it; cleared once it is logged. */
  startedAt?: number
  /** Who the request's bearer token names once verified (null: not valid); absent until someone asked. */
  bearer?: Principal | null
  /** Who the request is authenticated as, once the auth macro has run. */
  principal?: Principal
}

const STATE = Symbol('shop.request')
type Carrying = Request & { [STATE]?: RequestState }

/**
 * Kept on the request itself, under a symbol: one property per request, where the error
 * plugin, the request log and auth each kept a WeakMap entry (about 1 µs a request, and work
 * for the collector).
 */
export const stateOf = (request: Request): RequestState | undefined => (request as Carrying)[STATE]

/** Called by the first hook a request meets (http-errors). */
export const arrive = (request: Request): RequestState => ((request as Carrying)[STATE] = { id: newId() })
