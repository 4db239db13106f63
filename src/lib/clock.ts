/** Time as a dependency, so tests can move it instead of waiting. */
export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

/** A clock that only moves when told to (tests). */
export class ManualClock implements Clock {
  constructor(private current = Date.parse('2026-11-27T00:00:00Z')) {}
  now() {
    return this.current
  }
  advance(ms: number) {
    this.current += ms
  }
  set(ms: number) {
    this.current = ms
  }
}

export const isoAt = (ms: number) => new Date(ms).toISOString()
