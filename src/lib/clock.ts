/** An instant as stored and answered: ISO 8601 in UTC with milliseconds. */
export const isoAt = (ms: number) => new Date(ms).toISOString()

/** Time as a dependency, so tests can move it instead of waiting. */
export interface Clock {
  now(): number
  /** `now()` as stored and answered (`isoAt`). */
  iso(): string
}

export const systemClock: Clock = { now: () => Date.now(), iso: () => isoAt(Date.now()) }

/** A clock that only moves when told to (tests). */
export class ManualClock implements Clock {
  constructor(private current = Date.parse('2026-11-27T00:00:00Z')) {}
  now() {
    return this.current
  }
  iso() {
    return isoAt(this.current)
  }
  advance(ms: number) {
    this.current += ms
  }
  set(ms: number) {
    this.current = ms
  }
}
