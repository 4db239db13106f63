import { eq } from 'drizzle-orm'
import type { Database } from '../../db/client'
import type { FlashSaleQueue, QueuedEntry, SettledEntry } from './queue/port'
import type { Clock } from '../../lib/clock'
import { newId } from '../../lib/ids'
import type { Logger } from '../../lib/logger'
import type { Worker } from '../../lib/worker'
import { allocateBatch, claimDrop, OutOfOrder, rehearseAllocation, StaleAllocator, type WinnerOrders } from './allocation'
import type { EntryEvents } from './events'
import type { FlashSaleMetrics } from './metrics'
import { flashSaleDrops } from './schema'

export interface AllocatorOptions extends WinnerOrders {
  database: Database
  queue: FlashSaleQueue
  clock: Clock
  logger: Logger
  metrics?: FlashSaleMetrics
  /** Tells customers' event streams their entries were decided. */
  changes?: Pick<EntryEvents, 'changed'>
  /** This process's lease owner id. */
  owner?: string
  /** A crashed allocator's drop is taken over this long after its last renewal. */
  leaseMs?: number
  batchSize?: number
  /** How often the list of open drops is re-read (a newly opened drop waits at most this long). */
  pollMs?: number
}

/**
 * Winners' orders written in one transaction at most. The transaction holds the process's one
 * thread (the driver is synchronous): 100 winners took 20 ms warm and ~45 ms cold, every request
 * arriving meanwhile waiting. Splitting it finer lets requests in between, but each pause waits
 * a whole turn of the event loop, which in a saturated stampede is 50-100 ms of queued entries:
 * with 32 a transaction the 100th winner was decided 94-242 ms after its entry instead of 33-39.
 * So a drop of up to 128 units decides its winners at once, and only bigger ones are split.
 */
const WINNERS_PER_TRANSACTION = 128

const REHEARSAL_MARGIN_MS = 200

interface OpenDrop {
  id: string
  /** Epoch ms. */
  opensAt: number
}

/**
 * The one consumer of each open drop across all instances. Per drop, each step takes in one
 * queue call the lease (renewed) and a batch: whatever was delivered and never settled, then
 * new entries (a blocking wait only when there are none); it claims a fencing epoch in SQL when
 * taking over, decides the batch in one write transaction, and publishes the results and
 * acknowledges. Under a stampede every round trip waits a whole event-loop turn behind the
 * queued requests, hence as few as possible a step. A crash anywhere in between leaves the
 * entries pending for the next holder, and the idempotent transaction makes the replay safe.
 */
export class Allocator implements Worker {
  private readonly owner: string
  private readonly pollMs: number
  private readonly epochs = new Map<string, number>()
  private running = false
  private loop?: Promise<void>
  /** The last settle in flight: settles resolve in the order made, so awaiting it awaits all. */
  private settling = Promise.resolve()
  private drops: OpenDrop[] = []
  private dropsReadAt = Number.NEGATIVE_INFINITY
  private rehearsed = false

  constructor(private readonly options: AllocatorOptions) {
    this.owner = options.owner ?? newId()
    this.pollMs = options.pollMs ?? 250
  }

  start() {
    this.running = true
    this.loop = this.run()
  }

  async stop() {
    this.running = false
    await this.loop
    await this.settling
    for (const dropId of this.epochs.keys()) await this.options.queue.unlease(dropId, this.owner).catch(() => undefined)
    this.epochs.clear()
  }

  private async run() {
    const { logger } = this.options
    while (this.running) {
      try {
        const drops = await this.openDrops()
        let busy = false
        for (const drop of drops) if (this.running && (await this.step(drop, drops.length === 1)) !== 'idle') busy = true
        if (!busy) await Bun.sleep(drops.length ? 50 : this.pollMs)
      } catch (error) {
        logger.error('flash-sale allocator step failed', { error: String(error) })
        await Bun.sleep(200)
      }
    }
  }

  private async openDrops() {
    if (Date.now() - this.dropsReadAt >= this.pollMs) {
      this.drops = await this.options.database.db.select({ id: flashSaleDrops.id, opensAt: flashSaleDrops.opensAt }).from(flashSaleDrops).where(eq(flashSaleDrops.status, 'open'))
      this.dropsReadAt = Date.now()
    }
    return this.drops
  }

  /** One batch of one drop: `decided` something, `waited` for entries in a blocking read, or stayed `idle`. */
  private async step(drop: OpenDrop, mayBlock: boolean): Promise<'decided' | 'waited' | 'idle'> {
    const dropId = drop.id
    let held = await this.take(drop)
    if (held?.batch.length === 0 && mayBlock) {
      // The entry that woke it comes back with the next take, and with it whatever entered
      // meanwhile: under a stampede the first batch holds the burst, not its first entry.
      if (!(await this.options.queue.wait(dropId, 200))) return 'waited'
      held = await this.take(drop)
    }
    if (!held) return 'idle'
    if (!held.batch.length) return mayBlock ? 'waited' : 'idle'
    const entries = held.batch.toSorted((a, b) => a.seq - b.seq)
    for (let decided = 0; decided < entries.length; ) {
      // Between transactions the requests that queued meanwhile run (the stampede's entries among them).
      if (decided) await new Promise((resolve) => setImmediate(resolve))
      const settled = await this.decide(dropId, held.epoch, entries.slice(decided))
      if (!settled) return 'idle'
      decided += settled.length
    }
    return 'decided'
  }

  /**
   * The lease, renewed, with a batch of entries and the fencing epoch to decide them under;
   * null while another allocator holds the drop. Taking the drop over claims a new epoch in
   * SQL first (and, before the drop opens, rehearses a batch); entries delivered to a claim
   * that failed stay pending for the next take.
   */
  private async take({ id: dropId, opensAt }: OpenDrop) {
    const { database, queue, clock, logger, leaseMs = 3000, batchSize = 500 } = this.options
    const batch = await queue.take(dropId, this.owner, leaseMs, batchSize)
    if (!batch) {
      this.epochs.delete(dropId)
      return null
    }
    let epoch = this.epochs.get(dropId)
    if (epoch === undefined) {
      const claimed = await database.write((tx) => claimDrop(tx, dropId))
      if (claimed === null) return null
      epoch = claimed
      this.epochs.set(dropId, epoch)
      logger.info('flash-sale allocator took a drop', { drop_id: dropId, epoch, owner: this.owner })
      // Only well before the opening: a rehearsal holds the thread as long as the batch it warms.
      // Once a process (what it warms stays warm) and on a local file only: on a remote database
      // it warms nothing and its ~35 round trips would hold the writer into the opening.
      const now = clock.now()
      if (!this.rehearsed && database.local && now + REHEARSAL_MARGIN_MS < opensAt) {
        this.rehearsed = true
        await rehearseAllocation(database, this.options, dropId, epoch, now, 2 * WINNERS_PER_TRANSACTION, WINNERS_PER_TRANSACTION).catch((error) =>
          logger.warn('flash-sale allocation rehearsal failed', { drop_id: dropId, error: String(error) }),
        )
      }
    }
    return { batch, epoch }
  }

  /**
   * Decides entries in one write transaction, at most WINNERS_PER_TRANSACTION winners' orders
   * of them, and sends the results to be published and acknowledged; returns the entries
   * decided, or null when this allocator must step back (the rest stay pending for the replay).
   */
  private async decide(dropId: string, epoch: number, entries: QueuedEntry[]) {
    const { database, queue, clock, logger } = this.options
    const at = clock.now()
    let settled
    try {
      settled = await database.write((tx) => allocateBatch(tx, this.options, dropId, epoch, entries, at, WINNERS_PER_TRANSACTION))
    } catch (error) {
      if (error instanceof StaleAllocator) {
        this.epochs.delete(dropId)
        await queue.unlease(dropId, this.owner)
        return null
      }
      // Entries read ahead of an undecided one stay pending and come back, in order, with the replay.
      if (error instanceof OutOfOrder) {
        logger.warn('flash-sale allocator replays out-of-order entries', { drop_id: dropId, error: error.message })
        return null
      }
      throw error
    }
    // Not awaited: the next take follows on the same connection without waiting for this
    // reply, so the two share a round trip, and the queue applies them in order (the take
    // never hands these entries over again). If it fails they stay pending and are replayed.
    this.settling = queue.settle(dropId, settled).then(
      () => this.published(dropId, entries.slice(0, settled.length), settled),
      (error) => logger.error('flash-sale results not settled, replayed later', { drop_id: dropId, error: String(error) }),
    )
    return settled
  }

  /** After a settle: tells the customers' event streams, and counts. */
  private async published(dropId: string, entries: QueuedEntry[], settled: SettledEntry[]) {
    const { clock, metrics } = this.options
    await this.options.changes?.changed({ drop_id: dropId, user_ids: settled.map((entry) => entry.userId) })
    if (metrics) {
      const known = clock.now()
      for (const entry of entries) metrics.latency.observe(Math.max(0, known - entry.at) / 1000)
      for (const entry of settled) metrics.allocations.inc({ outcome: entry.status })
    }
  }
}
