const RATE = /^([1-9]\d*)\/([1-9]\d*)(ms|s|m|h)$/
/** `600/1m`: a count per window, the window in `ms`, `s`, `m` or `h` (for config validation). */
export const RATE_PATTERN = RATE.source

export interface Rate {
  limit: number
  windowMs: number
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const

export function parseRate(spec: string): Rate {
  const match = RATE.exec(spec)
  if (!match) throw new Error(`Not a rate (like 600/1m): ${spec}`)
  return { limit: Number(match[1]), windowMs: Number(match[2]) * UNIT_MS[match[3] as keyof typeof UNIT_MS] }
}
