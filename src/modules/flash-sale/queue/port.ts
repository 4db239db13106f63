/**
 * The flash-sale queue: where entries wait, in arrival order, for the one allocator of
 * their drop. In-process for a single instance, Redis Streams when several share the work.
 * Every method is idempotent, so a retried command (reconnect, crash) changes nothing twice.
 */
export interface FlashSaleQueue {
  // Producer side (the entry hot path): one round trip.
  /** Dedups the customer, checks the drop is open and not full, gives the next seq. */
  enter(dropId: string, userId: string, entryId: string, now: number): Promise<EnterResult>
  /** The customer's entry and, once allocated, the result the allocator first published. */
  entryOf(dropId: string, userId: string): Promise<QueuedEntryView | null>

  // Scheduler side.
  /**
   * Lets entries in from `opensAt` until `closesAt`, up to `capacity` of them. Does nothing
   * once closed. `behind`: the queue's seq is below what SQL has decided, so it lost its state
   * (a restart of the in-process queue, a Redis without persistence); it then takes no entry
   * until `restore` has given it back what SQL knows.
   */
  openDrop(gate: DropGate): Promise<'open' | 'closed' | 'behind'>
  /** Records entries SQL has decided (each customer once, kept if known) and moves the seq past them. */
  restore(dropId: string, entries: RestoredEntry[]): Promise<void>
  /** Stops entries for good: later `openDrop` calls do not reopen it. */
  closeDrop(dropId: string): Promise<void>
  /** Entries accepted but not yet settled by the allocator (the queue depth). */
  backlog(dropId: string): Promise<number>
  /** Frees the drop's queue once it is closed and settled; entries stay readable for `retainMs`. */
  retireDrop(dropId: string, retainMs: number): Promise<void>

  // Consumer side (the allocator): at-least-once delivery, exactly one allocator per drop across instances.
  /**
   * One allocator step in one round trip: takes (or renews) the drop's lease for `owner` for
   * `ttlMs`, then hands over up to `count` entries in seq order, those delivered earlier and
   * never settled (a crashed holder's, or what woke `wait`) first, then new ones, without
   * waiting. They stay pending until settled. Null, and nothing delivered, when another owner
   * holds the lease.
   */
  take(dropId: string, owner: string, ttlMs: number, count: number): Promise<QueuedEntry[] | null>
  /** Waits up to `blockMs` for a new entry; true when one came (the next `take` hands it over). */
  wait(dropId: string, blockMs: number): Promise<boolean>
  /**
   * Publishes each entry's result and acknowledges it, atomically. Applied before any `take`
   * made after it, even one made before its promise resolved: the allocator does not wait.
   */
  settle(dropId: string, results: SettledEntry[]): Promise<void>
  /** Gives the lease up if `owner` holds it. */
  unlease(dropId: string, owner: string): Promise<void>

  /** Releases connections and wakes blocked readers. */
  disconnect(): Promise<void>
}

export interface DropGate {
  id: string
  /** Epoch ms; entries before it are refused (the scheduler prepares a drop a little earlier). */
  opensAt: number
  /** Epoch ms; entries at or after it are refused. */
  closesAt: number
  /** Entries accepted at most (units + waitlist); 0 refuses everyone. */
  capacity: number
  /** The highest seq SQL has decided for this drop (0 for none). */
  decidedSeq: number
}

/** An entry as SQL recorded it, for a queue that lost its state. */
export interface RestoredEntry {
  entryId: string
  seq: number
  userId: string
  /** Epoch ms when accepted. */
  at: number
  status: Exclude<QueuedStatus, 'queued'>
}

export interface QueuedEntry {
  /** Stream id (or its in-process equivalent): what `settle` acknowledges. */
  id: string
  entryId: string
  seq: number
  userId: string
  /** Epoch ms when accepted. */
  at: number
}

/** `queued` until the allocator settles the entry, then the outcome it decided. */
export type QueuedStatus = 'queued' | 'won' | 'waitlisted' | 'lost' | 'expired'

export interface QueuedEntryView {
  entryId: string
  seq: number
  at: number
  status: QueuedStatus
}

export interface SettledEntry {
  id: string
  userId: string
  status: Exclude<QueuedStatus, 'queued'>
}

export type EnterResult = { kind: 'accepted'; entry: QueuedEntryView } | { kind: 'repeat'; entry: QueuedEntryView } | { kind: 'not_open' } | { kind: 'sold_out' }
