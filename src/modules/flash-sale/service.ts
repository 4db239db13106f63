import { and, asc, eq, sql } from 'drizzle-orm'
import { prepared, type Database } from '../../db/client'
import type { FlashSaleQueue, QueuedEntryView } from './queue/port'
import { isoAt, type Clock } from '../../lib/clock'
import { sha256Hex } from '../../lib/crypto'
import { conflict, notFound } from '../../lib/errors'
import { newId } from '../../lib/ids'
import type { FlashSaleMetrics } from './metrics'
import type { AuditDto, MyEntryDto } from './model'
import type { DropSchedule, DropWindow } from './schedule'
import { flashSaleDrops, flashSaleEntries } from './schema'

const entryOf = prepared((q) =>
  q
    .select()
    .from(flashSaleEntries)
    .where(and(eq(flashSaleEntries.dropId, sql.placeholder('dropId')), eq(flashSaleEntries.userId, sql.placeholder('userId'))))
    .prepare(),
)

export interface FlashSaleDeps {
  database: Database
  clock: Clock
  queue: FlashSaleQueue
  schedule: DropSchedule
  metrics: FlashSaleMetrics
}

/** The hash a customer finds for themself in a drop's audit. */
const customerHash = (salt: string, customerId: string) => sha256Hex(`${salt}:${customerId}`)

const entryAnswer = (entry: QueuedEntryView) => ({ entry_id: entry.entryId, seq: entry.seq, status: entry.status })

/**
 * What an entry attempt came to. Refusals are outcomes, not errors: a stampede ends most
 * entries with one, so they are returned (the route answers each with its status) rather
 * than thrown through every frame. `not_ready`: open by the clock, but no scheduler has
 * reserved its units yet (late, or restoring the queue).
 */
export type EntryOutcome =
  | { kind: 'accepted'; entry: ReturnType<typeof entryAnswer> }
  | { kind: 'repeat'; entry: MyEntryDto }
  | { kind: 'sold_out' | 'not_ready' }
  | { kind: 'drop_not_open'; opensAt: string; closesAt: string }

export class FlashSaleService {
  constructor(private readonly deps: FlashSaleDeps) {}

  /**
   * The hot path: the schedule from memory, then one round trip to the queue. No SQL for a
   * drop this process knows (every drop it created or loaded).
   */
  async enter(userId: string, dropId: string): Promise<EntryOutcome> {
    const { clock, schedule, metrics } = this.deps
    const window = schedule.known(dropId) ?? (await schedule.get(dropId))
    if (!window) throw notFound('Drop')
    const now = clock.now()
    const outcome = await this.admit(dropId, userId, window, now)
    metrics.countEntry(outcome.kind)
    return outcome
  }

  private async admit(dropId: string, userId: string, window: DropWindow, now: number): Promise<EntryOutcome> {
    // Made only when answered: two ISO dates on every entry were ~2 % of the route's profile.
    const notOpen = () => ({ kind: 'drop_not_open', opensAt: isoAt(window.opensAt), closesAt: isoAt(window.closesAt) }) as const
    if (window.cancelled || now < window.opensAt || now >= window.closesAt) return notOpen()
    const result = await this.deps.queue.enter(dropId, userId, newId(), now)
    // Not prepared by its time: late, or cancelled on another instance (this one learns it from SQL, off the hot path).
    if (result.kind === 'not_open') return (await this.deps.schedule.refresh(dropId))?.cancelled ? notOpen() : { kind: 'not_ready' }
    if (result.kind === 'sold_out') return result
    if (result.kind === 'accepted') return { kind: 'accepted', entry: entryAnswer(result.entry) }
    // A repeat shows the entry as it is now: the queue knows only the first decision.
    return { kind: 'repeat', entry: await this.entryNow(userId, dropId, result.entry) }
  }

  /** Queued: from the queue alone. Decided: from SQL, which also knows later changes (expired, promoted, lost). */
  myEntry(userId: string, dropId: string): Promise<MyEntryDto> {
    return this.deps.queue.entryOf(dropId, userId).then((queued) => this.entryNow(userId, dropId, queued))
  }

  private async entryNow(userId: string, dropId: string, queued: QueuedEntryView | null): Promise<MyEntryDto> {
    if (queued?.status === 'queued') return entryAnswer(queued)
    const row = await entryOf(this.deps.database.db).get({ dropId, userId })
    if (!row) {
      if (queued) return entryAnswer(queued)
      throw notFound('Entry')
    }
    return {
      entry_id: row.id,
      seq: row.seq,
      status: row.outcome,
      ...(row.orderId ? { order_id: row.orderId } : {}),
      ...(row.payBy ? { pay_by: row.payBy } : {}),
    }
  }

  /** The drop a flash-sale order was won in, or null. */
  async dropOfOrder(orderId: string) {
    const row = await this.deps.database.db.select({ dropId: flashSaleEntries.dropId }).from(flashSaleEntries).where(eq(flashSaleEntries.orderId, orderId)).get()
    return row?.dropId ?? null
  }

  async audit(dropId: string): Promise<AuditDto> {
    const { db } = this.deps.database
    const drop = await db
      .select({ units: flashSaleDrops.units, status: flashSaleDrops.status, settledAt: flashSaleDrops.settledAt, salt: flashSaleDrops.auditSalt })
      .from(flashSaleDrops)
      .where(eq(flashSaleDrops.id, dropId))
      .get()
    if (!drop) throw notFound('Drop')
    if (drop.status !== 'closed') throw conflict('The audit is published once the drop has closed')
    const entries = await db
      .select({ seq: flashSaleEntries.seq, userId: flashSaleEntries.userId, outcome: flashSaleEntries.outcome })
      .from(flashSaleEntries)
      .where(eq(flashSaleEntries.dropId, dropId))
      .orderBy(asc(flashSaleEntries.seq))
    return {
      drop_id: dropId,
      units: drop.units,
      salt: drop.salt,
      final: drop.settledAt !== null,
      // A waitlisted entry may still win while a winner has time to pay: it is held back
      // until the drop settles, when it becomes `lost`. Only these three outcomes are final.
      entries: entries.flatMap((e) => (e.outcome === 'waitlisted' ? [] : [{ seq: e.seq, customer_hash: customerHash(drop.salt, e.userId), outcome: e.outcome }])),
    }
  }
}
