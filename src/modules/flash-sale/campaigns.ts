import { and, asc, count, desc, eq, inArray, isNull, lt } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { isoAt, type Clock } from '../../lib/clock'
import { randomToken } from '../../lib/crypto'
import { parseDateTime } from '../../lib/date-time'
import { conflict, invalid, notFound } from '../../lib/errors'
import { newId } from '../../lib/ids'
import { cursorAfter, isStringKey, pageOf } from '../../lib/pages'
import { productTerms } from '../catalog'
import type { CampaignDto, CreateCampaignInput, DropDto, EditCampaignInput } from './model'
import type { DropSchedule } from './schedule'
import { flashSaleCampaigns, flashSaleDrops, flashSaleEntries, type DropStatus } from './schema'

/** Clock skew a campaign's start may have in the past. */
const START_GRACE_MS = 60_000
/** Every drop closes before this: far enough for any sale, and every time stays a valid date. */
const LAST_CLOSE_MS = Date.UTC(9999, 0, 1)

export interface CampaignsDeps {
  database: Database
  clock: Clock
  schedule: DropSchedule
}

type CampaignRow = typeof flashSaleCampaigns.$inferSelect
type DropRow = typeof flashSaleDrops.$inferSelect

/** The terms a drop takes from its campaign until it opens (then they are the drop's own). */
const dropTerms = (c: Pick<CampaignRow, 'unitsPerDrop' | 'price' | 'waitlistSize' | 'paymentWindowSeconds'>) => ({
  units: c.unitsPerDrop,
  price: c.price,
  waitlistSize: c.waitlistSize,
  paymentWindowSeconds: c.paymentWindowSeconds,
})

/** Campaigns as admins run them: create, edit the drops still to come, cancel them; and as anyone reads them. */
export class Campaigns {
  constructor(private readonly deps: CampaignsDeps) {}

  async create(adminId: string, input: CreateCampaignInput): Promise<CampaignDto> {
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
      createdBy: adminId,
      createdAt: isoAt(now),
      cancelledAt: null,
    }
    const interval = input.interval_seconds * 1000
    const drops: DropRow[] = Array.from({ length: input.drop_count }, (_, position) => ({
      id: newId(),
      campaignId: campaign.id,
      position,
      opensAt: startsAt + position * interval,
      closesAt: startsAt + (position + 1) * interval,
      ...dropTerms(campaign),
      auditSalt: randomToken(16),
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

  /**
   * Changes the terms of the drops that have not opened (the scheduler opens each a few seconds
   * before `opens_at`, and from then on its terms are its own). 409 when the campaign is
   * cancelled or every drop has opened: nothing would change.
   */
  async edit(id: string, patch: EditCampaignInput): Promise<CampaignDto> {
    await this.deps.database.write(async (tx) => {
      const current = await tx.select().from(flashSaleCampaigns).where(eq(flashSaleCampaigns.id, id)).get()
      if (!current) throw notFound('Campaign')
      if (current.cancelledAt) throw conflict('The campaign is cancelled')
      const terms = {
        price: patch.price ?? current.price,
        unitsPerDrop: patch.units_per_drop ?? current.unitsPerDrop,
        waitlistSize: patch.waitlist_size ?? current.waitlistSize,
        paymentWindowSeconds: patch.payment_window_seconds ?? current.paymentWindowSeconds,
      }
      const edited = await tx
        .update(flashSaleDrops)
        .set(dropTerms(terms))
        .where(and(eq(flashSaleDrops.campaignId, id), eq(flashSaleDrops.status, 'scheduled')))
        .returning({ id: flashSaleDrops.id })
      if (!edited.length) throw conflict('Every drop of this campaign has opened: there is nothing left to change')
      await tx.update(flashSaleCampaigns).set(terms).where(eq(flashSaleCampaigns.id, id))
    })
    return this.get(id)
  }

  /** Cancels the drops that have not opened (they take no units); an open drop runs to its close. Cancelling twice changes nothing. */
  async cancel(id: string): Promise<CampaignDto> {
    const at = this.deps.clock.iso()
    const cancelled = await this.deps.database.write(async (tx) => {
      const campaign = await tx.select({ cancelledAt: flashSaleCampaigns.cancelledAt }).from(flashSaleCampaigns).where(eq(flashSaleCampaigns.id, id)).get()
      if (!campaign) throw notFound('Campaign')
      if (campaign.cancelledAt) return []
      await tx.update(flashSaleCampaigns).set({ cancelledAt: at }).where(eq(flashSaleCampaigns.id, id))
      return tx
        .update(flashSaleDrops)
        .set({ status: 'cancelled' })
        .where(and(eq(flashSaleDrops.campaignId, id), eq(flashSaleDrops.status, 'scheduled')))
        .returning({ id: flashSaleDrops.id })
    })
    this.deps.schedule.cancel(cancelled.map((drop) => drop.id))
    return this.get(id)
  }

  async list(limit = 20, cursor?: string) {
    const after = cursorAfter(cursor, isStringKey)
    const rows = await this.selectCampaigns()
      .where(after ? lt(flashSaleCampaigns.id, after) : undefined)
      .orderBy(desc(flashSaleCampaigns.id))
      .limit(limit + 1)
    const dtos = new Map((await this.withDrops(rows.slice(0, limit))).map((dto) => [dto.id, dto]))
    return pageOf(
      rows,
      limit,
      (row) => row.campaign.id,
      (row) => dtos.get(row.campaign.id)!,
    )
  }

  async get(id: string) {
    const row = await this.selectCampaigns().where(eq(flashSaleCampaigns.id, id)).get()
    if (!row) throw notFound('Campaign')
    return (await this.withDrops([row]))[0]!
  }

  /** The newest campaign on a product, or null (the demo seed checks it before creating one). */
  async latestOf(productId: string) {
    const row = await this.selectCampaigns().where(eq(flashSaleCampaigns.productId, productId)).orderBy(desc(flashSaleCampaigns.id)).get()
    return row ? (await this.withDrops([row]))[0]! : null
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
      .where(
        inArray(
          flashSaleDrops.campaignId,
          rows.map((r) => r.campaign.id),
        ),
      )
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
      cancelled_at: c.cancelledAt,
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
  if (d.status === 'cancelled') return 'cancelled'
  if (now >= d.closesAt || d.status === 'closed') return 'closed'
  return now >= d.opensAt && d.status === 'open' ? 'open' : 'scheduled'
}

function toDrop(d: DropRow, held: number, now: number): DropDto {
  const status = statusAt(d, now)
  const unitsLeft = status === 'closed' || status === 'cancelled' ? 0 : d.units - held
  return { id: d.id, opens_at: isoAt(d.opensAt), closes_at: isoAt(d.closesAt), units: d.units, price: d.price, status, units_left: unitsLeft }
}
