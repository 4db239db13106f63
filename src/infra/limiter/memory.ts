import type { LimitCheck, LimitDecision, Limiter } from '.'

interface Charge {
  allowed: boolean
  /** Theoretical arrival time after this request (GCRA state). */
  tat: number
  remaining: number
  retryAfterMs: number
}

/**
 * GCRA for one bucket: the state is one number, the time at which the bucket would be full
 * again. The Redis adapter's Lua script is the same arithmetic.
 */
export function charge(storedTat: number | undefined, { limit, windowMs }: LimitCheck, now: number): Charge {
  const interval = windowMs / limit
  const tat = Math.max(storedTat ?? now, now) + interval
  const allowAt = tat - windowMs
  if (now < allowAt) return { allowed: false, tat: storedTat ?? now, remaining: 0, retryAfterMs: allowAt - now }
  return { allowed: true, tat, remaining: Math.floor((windowMs - (tat - now)) / interval), retryAfterMs: 0 }
}

/** Folds the per-bucket outcomes into one answer: the tightest bucket speaks for all. */
export function decide(checks: LimitCheck[], charges: Charge[], tats: (number | undefined)[], now: number): LimitDecision {
  const allowed = charges.every((c) => c.allowed)
  let tightest = 0
  charges.forEach((c, i) => {
    if (c.remaining < charges[tightest]!.remaining) tightest = i
  })
  const fullAt = Math.max(...charges.map((c, i) => (allowed ? c.tat : (tats[i] ?? now))))
  return {
    allowed,
    limit: checks[tightest]!.limit,
    remaining: allowed ? charges[tightest]!.remaining : 0,
    resetMs: Math.max(0, Math.ceil(fullAt - now)),
    retryAfterMs: Math.ceil(Math.max(...charges.map((c) => c.retryAfterMs))),
  }
}

/** One instance only: counts live in this process. Expired buckets are swept as the map grows. */
export function memoryLimiter(maxKeys = 100_000): Limiter {
  const tats = new Map<string, number>()
  const sweep = (now: number) => {
    for (const [key, tat] of tats) if (tat <= now) tats.delete(key)
  }
  const takeNow = (checks: LimitCheck[], now: number) => {
    const stored = checks.map((c) => tats.get(c.key))
    const charges = checks.map((c, i) => charge(stored[i], c, now))
    const decision = decide(checks, charges, stored, now)
    if (decision.allowed) {
      if (tats.size >= maxKeys) sweep(now)
      checks.forEach((c, i) => tats.set(c.key, charges[i]!.tat))
    }
    return decision
  }
  return { takeNow, take: async (checks, now) => takeNow(checks, now) }
}
