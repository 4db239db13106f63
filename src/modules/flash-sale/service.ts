import { and, asc, count, desc, eq, inArray, isNull, lt, sql } from 'drizzle-orm'
import { prepared, type Database } from '../../db/client'
import type { FlashSaleQueue, QueuedEntryView } from './queue/port'
import { isoAt, type Clock } from '../../lib/clock'
import { randomToken, sha256Hex } from '../../lib/crypto'
import { parseDateTime } from '../../lib/date-time'
import { conflict, invalid, notFound } from '../../lib/errors'
import { newId } from '../../lib/ids'
import { cursorAfter, isStringKey, pageOf } from '../../lib/pages'
import { productTerms } from '../catalog'
import type { FlashSaleMetrics } from './metrics'
import type { AuditDto, CampaignDto, CreateCampaignInput, DropDto, MyEntryDto } from './model'
import type { DropSchedule, DropWindow } from './schedule'
import { flashSaleCampaigns, flashSaleDrops, flashSaleEntries, type DropStatus } from './schema'

const entryOf = prepared((q) =>
  q
    .select()
    .from(flashSaleEntries)
    .where(and(eq(flashSaleEntries.dropId, sql.placeholder('dropId')), eq(flashSaleEntries.userId, sql.placeholder('userId'))))
    .prepare(),
)

/** Clock skew a campaign's start may have in the past. */
const START_GRACE_MS = 60_000
/** Every drop closes before this: far enough for any sale, and every time stays a valid date. */
const LAST_CLOSE_MS = Date.UTC(9999, 0, 1)

export interface FlashSaleDeps {
  database: Database
  clock: Clock
  queue: FlashSaleQueue
  schedule: DropSchedule
  metrics: FlashSaleMetrics
}

type CampaignRow = typeof flashSaleCampaigns.$inferSelect
type DropRow = typeof flashSaleDrops.$inferSelect

/** The hash a customer finds for themself in a drop's audit. */
export const customerHash = (salt: string, customerId: string) => sha256Hex(`${salt}:${customerId}`)

const entryAnswer = (entry: QueuedEntryView) => ({ entry_id: entry.entryId, seq: entry.seq, status: entry.status })

/**
 * What an entry attempt came to. Refusals are outcomes, not errors: a stampede ends most
 * entries with one, so they are returned (the route answers each with its status) rather
 * than thrown through every frame. `not_ready`: open by the clock, but no scheduler has
 * reserved its units yet (late, or restoring the queue).
 */
export type EntryOutcome =
  | { kind: 'accepted' | 'repeat'; entry: ReturnType<typeof entryAnswer> }
  | { kind: 'sold_out' | 'not_ready' }
  | { kind: 'drop_not_open'; opensAt: string; closesAt: string }

export class FlashSaleService {
  constructor(private readonly deps: FlashSaleDeps) {}

  async createCampaign(adminId: string, input: CreateCampaignInput): Promise<CampaignDto> {
    const { database, clock, schedule } = this.deps
    const now = clock.now()
    const startsAt = parseDateTime(input.starts_at)
    if (startsAt === null) throw invalid([{ field: 'starts_at', message: 'Must be an RFC 3339 date-time that exists, like 2030-01-02T10:00:00Z' }])
    if (startsAt < now - START_GRACE_MS) throw invalid([{ field: 'starts_at', message: 'The first drop cannot start in the past' }])
    if (startsAt + input.drop_count * input.interval_seconds * 1000 > LAST_CLOSE_MS) throw invalid([{ field: 'starts_at', message: `The last drop must close by ${isoAt(LAST_CLOSE_MS)}` }])
    const product = await database.db
      .select({ currency: productTerms.currency })
      .from(productTerms)
      .where(and(eq(productTerms.productId, input.product_id), isNull(productTerms.deletedAt)))
      .get()
    if (!product) throw notFound('Product')
    const campaign: CampaignRow = {
      id: newId(),
      productId: input.product_id,
      price: input.price,
      unitsPerDrop: input.units_per_drop,
      dropCount: input.drop_count,
      intervalSeconds: input.interval_seconds,
      startsAt: isoAt(startsAt),
      perCustomerLimit: input.per_customer_limit,
      paymentWindowSeconds: input.payment_window_seconds,
      waitlistSize: input.waitlist_size ?? input.units_per_drop,
      auditSalt: randomToken(16),
      createdBy: adminId,
      createdAt: isoAt(now),
    }
    const interval = input.interval_seconds * 1000
    const drops: DropRow[] = Array.from({ length: input.drop_count }, (_, position) => ({
      id: newId(),
      campaignId: campaign.id,
      position,
      opensAt: startsAt + position * interval,
      closesAt: startsAt + (position + 1) * interval,
      units: input.units_per_drop,
      status: 'scheduled',
      allocatorEpoch: 0,
      unitsReturned: 0,
      openedAt: null,
      closedAt: null,
      settledAt: null,
    }))
    await database.write(async (tx) => {
      await tx.insert(flashSaleCampaigns).values(campaign)
      await tx.insert(flashSaleDrops).values(drops)
    })
    schedule.remember(drops)
    return this.toCampaign(campaign, product.currency, drops, new Map())
  }

  async listCampaigns(limit = 20, cursor?: string) {
    const after = cursorAfter(cursor, isStringKey)
    const rows = await this.selectCampaigns()
      .where(after ? lt(flashSaleCampaigns.id, after) : undefined)
      .orderBy(desc(flashSaleCampaigns.id))
      .limit(limit + 1)
    const dtos = new Map((await this.withDrops(rows.slice(0, limit))).map((dto) => [dto.id, dto]))
    return pageOf(rows, limit, (row) => row.campaign.id, (row) => dtos.get(row.campaign.id)!)
  }

  async getCampaign(id: string) {
    const row = await this.selectCampaigns().where(eq(flashSaleCampaigns.id, id)).get()
    if (!row) throw notFound('Campaign')
    return (await this.withDrops([row]))[0]!
  }

  /** The newest campaign on a product, or null (the demo seed checks it before creating one). */
  async latestCampaignOf(productId: string) {
    const row = await this.selectCampaigns().where(eq(flashSaleCampaigns.productId, productId)).orderBy(desc(flashSaleCampaigns.id)).get()
    return row ? (await this.withDrops([row]))[0]! : null
  }

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
    if (now < window.opensAt || now >= window.closesAt) return { kind: 'drop_not_open', opensAt: isoAt(window.opensAt), closesAt: isoAt(window.closesAt) }
    const result = await this.deps.queue.enter(dropId, userId, newId(), now)
    if (result.kind === 'not_open') return { kind: 'not_ready' }
    return result.kind === 'sold_out' ? result : { kind: result.kind, entry: entryAnswer(result.entry) }
  }

  /** Queued: from the queue alone. Decided: from SQL, which also knows later changes (expired, promoted, lost). */
  async myEntry(userId: string, dropId: string): Promise<MyEntryDto> {
    const queued = await this.deps.queue.entryOf(dropId, userId)
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
      .select({ units: flashSaleDrops.units, status: flashSaleDrops.status, settledAt: flashSaleDrops.settledAt, salt: flashSaleCampaigns.auditSalt })
      .from(flashSaleDrops)
      .innerJoin(flashSaleCampaigns, eq(flashSaleCampaigns.id, flashSaleDrops.campaignId))
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

  private selectCampaigns() {
    return this.deps.database.db
      .select({ campaign: flashSaleCampaigns, currency: productTerms.currency })
      .from(flashSaleCampaigns)
      .innerJoin(productTerms, eq(productTerms.productId, flashSaleCampaigns.productId))
  }

  private async withDrops(rows: { campaign: CampaignRow; currency: string }[]) {
    if (!rows.length) return []
    const { db } = this.deps.database
    const drops = await db
      .select()
      .from(flashSaleDrops)
      .where(inArray(flashSaleDrops.campaignId, rows.map((r) => r.campaign.id)))
      .orderBy(asc(flashSaleDrops.campaignId), asc(flashSaleDrops.position))
    const openIds = drops.filter((d) => d.status === 'open').map((d) => d.id)
    const held = openIds.length
      ? await db
          .select({ dropId: flashSaleEntries.dropId, n: count() })
          .from(flashSaleEntries)
          .where(and(inArray(flashSaleEntries.dropId, openIds), eq(flashSaleEntries.outcome, 'won')))
          .groupBy(flashSaleEntries.dropId)
      : []
    const heldByDrop = new Map(held.map((h) => [h.dropId, h.n]))
    return rows.map(({ campaign, currency }) =>
      this.toCampaign(
        campaign,
        currency,
        drops.filter((d) => d.campaignId === campaign.id),
        heldByDrop,
      ),
    )
  }

  private toCampaign(c: CampaignRow, currency: string, drops: DropRow[], heldByDrop: Map<string, number>): CampaignDto {
    const now = this.deps.clock.now()
    return {
      id: c.id,
      product_id: c.productId,
      price: c.price,
      currency,
      units_per_drop: c.unitsPerDrop,
      drop_count: c.dropCount,
      interval_seconds: c.intervalSeconds,
      starts_at: c.startsAt,
      per_customer_limit: c.perCustomerLimit,
      payment_window_seconds: c.paymentWindowSeconds,
      waitlist_size: c.waitlistSize,
      created_at: c.createdAt,
      drops: drops.map((d) => toDrop(d, heldByDrop.get(d.id) ?? 0, now)),
    }
  }
}

/**
 * The status entries see: by the clock, like the entry route (a drop is prepared a little
 * before `opens_at` and its allocator may still be deciding entries after `closes_at`); a drop
 * no scheduler has prepared yet stays `scheduled`.
 */
function statusAt(d: DropRow, now: number): DropStatus {
  if (now >= d.closesAt || d.status === 'closed') return 'closed'
  return now >= d.opensAt && d.status === 'open' ? 'open' : 'scheduled'
}

function toDrop(d: DropRow, held: number, now: number): DropDto {
  const status = statusAt(d, now)
  const unitsLeft = status === 'closed' ? 0 : d.units - held
  return { id: d.id, opens_at: isoAt(d.opensAt), closes_at: isoAt(d.closesAt), units: d.units, status, units_left: unitsLeft }
}
