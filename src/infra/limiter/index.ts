/** One bucket to charge: `limit` requests per `windowMs`, refilled smoothly (GCRA, a token bucket). */
export interface LimitCheck {
  key: string
  limit: number
  windowMs: number
}

export interface LimitDecision {
  allowed: boolean
  /** Of the tightest bucket charged. */
  limit: number
  remaining: number
  /** Until every bucket charged is full again. */
  resetMs: number
  /** Until the request would be allowed (0 when it is). */
  retryAfterMs: number
}

/**
 * Rate limiter port. `take` charges one request to every bucket in `checks` at time `now`,
 * all or nothing: when any bucket is empty nothing is charged. In-process for one
 * instance; Redis (one atomic script per call) when instances must share counts.
 */
export interface Limiter {
  take(checks: LimitCheck[], now: number): Promise<LimitDecision>
  /** The same, answered at once: only a limiter that never waits (in-process) has it. */
  takeNow?(checks: LimitCheck[], now: number): LimitDecision
}
