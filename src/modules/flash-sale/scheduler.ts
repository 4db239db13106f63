import { and, eq, lte, min, or } from 'drizzle-orm'
import type { Database } from '../../db/client'
import type { FlashSaleQueue } from '../../infra/queue'
import { isoAt, type Clock } from '../../lib/clock'
import type { Logger } from '../../lib/logger'
import type { Worker } from '../../app'
import { closeDropTx, openDropTx } from './allocation'
import type { EntryEvents } from './events'
import type { DropSchedule } from './schedule'
import { flashSaleCampaigns, flashSaleDrops } from './schema'

export interface DropSchedulerOptions {
  database: Database
  queue: FlashSaleQueue
  clock: Clock
  logger: Logger
  schedule: DropSchedule
  /** Tells customers' event streams a drop closed (its waitlist is lost). */
  changes?: Pick<EntryEvents, 'changed'>
  /** How long a closed drop's queue stays readable (results) before Redis frees it. */
  retainMs?: number
  /** Longest sleep between ticks; the scheduler also wakes at the next drop edge. */
  pollMs?: number
}

/**
 * Opens and closes drops on time. Every instance runs it: each step is a guarded UPDATE
 * (only one instance opens or closes a drop) followed by an idempotent mirror into the queue.
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

  async start() {
    this.running = true
    await this.options.schedule.load()
    void this.loop()
  }

  async stop() {
    this.running = false
    clearTimeout(this.timer)
    await this.ticking
  }

  private async loop() {
    await this.tick()
    if (!this.running) return
    const pollMs = this.options.pollMs ?? 1000
    const wait = await this.untilNextOpening().catch(() => pollMs)
    if (this.running) this.timer = setTimeout(() => void this.loop(), Math.min(Math.max(wait, 5), pollMs))
  }

  /** Milliseconds until the next scheduled drop opens (open drops close on the poll). */
  private async untilNextOpening() {
    const row = await this.options.database.db.select({ at: min(flashSaleDrops.opensAt) }).from(flashSaleDrops).where(eq(flashSaleDrops.status, 'scheduled')).get()
    return (row?.at ?? Number.POSITIVE_INFINITY) - this.options.clock.now()
  }

  private async pass() {
    const { database, queue, clock, schedule, retainMs = 24 * 3600_000 } = this.options
    const now = clock.now()
    const at = isoAt(now)
    const due = await database.db
      .select({ id: flashSaleDrops.id, status: flashSaleDrops.status, opensAt: flashSaleDrops.opensAt, closesAt: flashSaleDrops.closesAt, units: flashSaleDrops.units, waitlist: flashSaleCampaigns.waitlistSize })
      .from(flashSaleDrops)
      .innerJoin(flashSaleCampaigns, eq(flashSaleCampaigns.id, flashSaleDrops.campaignId))
      .where(or(eq(flashSaleDrops.status, 'open'), and(eq(flashSaleDrops.status, 'scheduled'), lte(flashSaleDrops.opensAt, now))))
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
        await queue.openDrop({ id: drop.id, closesAt: drop.closesAt, capacity: drop.units > 0 ? drop.units + drop.waitlist : 0 })
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
  }
}
