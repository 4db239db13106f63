import { and, eq, isNull, lte, min, or, sql } from 'drizzle-orm'
import type { Database } from '../../db/client'
import type { DropGate, FlashSaleQueue } from './queue/port'
import { isoAt, type Clock } from '../../lib/clock'
import type { Logger } from '../../lib/logger'
import type { Worker } from '../../lib/worker'
import { decidedEntries } from './allocation'
import { closeDropTx, openDropTx, pendingWinners, settleClosedDrop } from './drop-lifecycle'
import type { EntryEvents } from './events'
import type { DropSchedule } from './schedule'
import { flashSaleDrops, flashSaleEntries } from './schema'

export interface DropSchedulerOptions {
  database: Database
  queue: FlashSaleQueue
  clock: Clock
  logger: Logger
  schedule: DropSchedule
  /** Tells customers' event streams a drop closed or settled (its waitlist is lost). */
  changes?: Pick<EntryEvents, 'changed'>
  /**
   * How long before `opens_at` a drop is prepared (units reserved, queue gate set), so that
   * entries are taken from `opens_at` on by the clock alone, never before the units exist.
   */
  leadMs?: number
  /** How long a closed drop's queue stays readable (results) before Redis frees it. */
  retainMs?: number
  /** Longest sleep between ticks; the scheduler also wakes at the next drop edge. */
  pollMs?: number
}

/** Default `leadMs`: several scheduler polls, so one slow tick does not make a drop late. */
const PREPARE_LEAD_MS = 5_000

/**
 * Prepares drops just before they open, closes them, and settles closed ones. Every
 * instance runs it: each step is a guarded UPDATE (only one instance opens or closes a drop)
 * followed by an idempotent mirror into the queue, which it rebuilds from SQL if it lost it.
 */
export class DropScheduler implements Worker {
  private ticking: Promise<void> = Promise.resolve()
  private timer?: ReturnType<typeof setTimeout>
  private running = false
  private openIds: string[] = []

  constructor(private readonly options: DropSchedulerOptions) {}

  /** Drops open at the last tick (for the queue-depth gauge). */
  get openDrops(): readonly string[] {
    return this.openIds
  }

  /** One pass over the due drops; calls never overlap (tests call it instead of waiting). */
  tick(): Promise<void> {
    this.ticking = this.ticking.then(() => this.pass()).catch((error) => this.options.logger.error('flash-sale scheduler tick failed', { error: String(error) }))
    return this.ticking
  }

  /** Returns after the first pass, so a restarted instance has its open drops' gates back before it serves. */
  async start() {
    this.running = true
    await this.options.schedule.load()
    await this.tick()
    this.scheduleNextTick()
  }

  async stop() {
    this.running = false
    clearTimeout(this.timer)
    await this.ticking
  }

  private scheduleNextTick() {
    if (!this.running) return
    const pollMs = this.options.pollMs ?? 1000
    void this.untilNextPreparation()
      .catch(() => pollMs)
      .then((wait) => {
        if (this.running) this.timer = setTimeout(() => void this.tick().then(() => this.scheduleNextTick()), Math.min(Math.max(wait, 5), pollMs))
      })
  }

  /** Milliseconds until the next scheduled drop is due to be prepared (open drops close on the poll). */
  private async untilNextPreparation() {
    const row = await this.options.database.db
      .select({ at: min(flashSaleDrops.opensAt) })
      .from(flashSaleDrops)
      .where(eq(flashSaleDrops.status, 'scheduled'))
      .get()
    return (row?.at ?? Number.POSITIVE_INFINITY) - this.leadMs - this.options.clock.now()
  }

  private get leadMs() {
    return this.options.leadMs ?? PREPARE_LEAD_MS
  }

  private async pass() {
    const { database, queue, clock, schedule, retainMs = 24 * 3600_000 } = this.options
    const now = clock.now()
    const at = isoAt(now)
    // The drop's id written out with its table: a one-table select names columns bare, and a bare `id` here would be the entry's.
    const highestDecidedSeq = sql<number>`(select coalesce(max(${flashSaleEntries.seq}), 0) from ${flashSaleEntries} where ${flashSaleEntries.dropId} = ${flashSaleDrops}.${sql.identifier(flashSaleDrops.id.name)})`
    const due = await database.db
      .select({
        id: flashSaleDrops.id,
        status: flashSaleDrops.status,
        opensAt: flashSaleDrops.opensAt,
        closesAt: flashSaleDrops.closesAt,
        units: flashSaleDrops.units,
        waitlist: flashSaleDrops.waitlistSize,
        decidedSeq: highestDecidedSeq,
      })
      .from(flashSaleDrops)
      .where(or(eq(flashSaleDrops.status, 'open'), and(eq(flashSaleDrops.status, 'scheduled'), lte(flashSaleDrops.opensAt, now + this.leadMs))))
    schedule.remember(due)
    const open: string[] = []
    for (const drop of due) {
      if (drop.status === 'scheduled') {
        const units = await database.write((tx) => openDropTx(tx, drop.id, at))
        // Another instance opened it first; its units are read at the next tick.
        if (units === null) continue
        drop.units = units
      }
      if (now < drop.closesAt) {
        const { id, opensAt, closesAt, decidedSeq } = drop
        await this.mirror({ id, opensAt, closesAt, decidedSeq, capacity: drop.units > 0 ? drop.units + drop.waitlist : 0 })
        open.push(drop.id)
        continue
      }
      // Close the queue first (no entry gets in after this), then wait until every entry is decided.
      await queue.closeDrop(drop.id)
      if ((await queue.backlog(drop.id)) > 0) {
        open.push(drop.id)
        continue
      }
      if (!(await database.write((tx) => closeDropTx(tx, drop.id, at)))) continue
      await queue.retireDrop(drop.id, retainMs)
      await this.options.changes?.changed({ drop_id: drop.id })
    }
    this.openIds = open
    await this.settleClosedDrops(at)
  }

  /** The drop's gate in the queue; a queue that lost its state first gets back what SQL decided. */
  private async mirror(gate: DropGate) {
    const { database, queue, logger } = this.options
    if ((await queue.openDrop(gate)) !== 'behind') return
    const entries = await database.write((tx) => decidedEntries(tx, gate.id))
    logger.warn('flash-sale queue lost its state: restored from SQL', { drop_id: gate.id, entries: entries.length })
    await queue.restore(gate.id, entries)
    await queue.openDrop({ ...gate, decidedSeq: entries.at(-1)?.seq ?? 0 })
  }

  /** Closed drops whose last winner has paid since (an unpaid or cancelled one settles in its own transaction). */
  private async settleClosedDrops(at: string) {
    const { database } = this.options
    const unsettled = await database.db
      .select({ id: flashSaleDrops.id })
      .from(flashSaleDrops)
      .where(and(eq(flashSaleDrops.status, 'closed'), isNull(flashSaleDrops.settledAt)))
    for (const { id } of unsettled) {
      if ((await pendingWinners(database.db, id)) > 0) continue
      if (await database.write((tx) => settleClosedDrop(tx, id, at))) await this.options.changes?.changed({ drop_id: id })
    }
  }
}
