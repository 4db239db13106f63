/**
 * Open event streams per user, so one user cannot hold a server's connections. A slot is
 * taken when a stream opens and released when it closes; one an instance stopped renewing
 * (it died with the stream open) frees itself after the lease. In-process for one instance,
 * Redis when instances must count together (chosen in src/deps.ts).
 */
export interface StreamSlots {
  /** Takes slot `slot` of `owner` until `now + leaseMs`, unless `limit` unexpired slots are held; true when taken. */
  take(owner: string, slot: string, limit: number, now: number): Promise<boolean>
  /** Extends a held slot's lease from `now`. */
  renew(owner: string, slot: string, now: number): Promise<void>
  release(owner: string, slot: string): Promise<void>
}

/** Long enough to outlast a renewal missed under load, short enough that a dead instance's slots come back soon. */
export const SLOT_LEASE_MS = 60_000
