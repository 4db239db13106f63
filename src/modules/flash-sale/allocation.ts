// The allocator's writes, each inside the caller's write transaction (SQL only, no Redis).
import { and, asc, count, eq, gte, isNull, max, sql } from 'drizzle-orm'
import { prepared, type Queryable, type Tx } from '../../db/client'
import { rowInserter } from '../../db/row-inserter'
import type { QueuedEntry, RestoredEntry, SettledEntry } from './queue/port'
import { isoAt } from '../../lib/clock'
import { contactsOf } from '../accounts'
import { moveStock, productTerms } from '../catalog'
import { orderTerms, type OrderLifecycle, type ReleasedOrder } from '../orders'
import { flashSaleCampaigns, flashSaleDrops, flashSaleEntries } from './schema'

/** Another allocator took the drop over (its epoch is newer), or the drop is no longer open. */
export class StaleAllocator extends Error {}
/** An entry arrived before an earlier seq was decided: the batch must be replayed in order. */
export class OutOfOrder extends Error {}
/** An entry whose seq or customer SQL already decided for someone else: a queue that lost its state. */
export class EntryConflict extends Error {}

export interface WinnerOrders {
  orders: Pick<OrderLifecycle, 'placeOrders'>
}

/** Takes the drop over: a new fencing epoch, after which older allocators cannot commit. */
export async function claimDrop(tx: Tx, dropId: string): Promise<number | null> {
  const row = await tx
    .update(flashSaleDrops)
    .set({ allocatorEpoch: sql`${flashSaleDrops.allocatorEpoch} + 1` })
    .where(and(eq(flashSaleDrops.id, dropId), eq(flashSaleDrops.status, 'open')))
    .returning({ epoch: flashSaleDrops.allocatorEpoch })
    .get()
  return row?.epoch ?? null
}

const ph = sql.placeholder
const inDrop = eq(flashSaleEntries.dropId, ph('dropId'))

const wonCount = prepared((q) =>
  q
    .select({ n: count() })
    .from(flashSaleEntries)
    .where(and(inDrop, eq(flashSaleEntries.outcome, 'won')))
    .prepare(),
)
const heldUnits = async (tx: Tx, dropId: string) => (await wonCount(tx).get({ dropId }))?.n ?? 0

const decidedFrom = prepared((q) =>
  q
    .select({ seq: flashSaleEntries.seq, userId: flashSaleEntries.userId, outcome: flashSaleEntries.outcome })
    .from(flashSaleEntries)
    .where(and(inDrop, gte(flashSaleEntries.seq, ph('fromSeq'))))
    .prepare(),
)
const lastDecidedSeq = prepared((q) => q.select({ seq: max(flashSaleEntries.seq) }).from(flashSaleEntries).where(inDrop).prepare())
/** Each seq is new here, so only (drop, customer) can clash: see `insertDecided`. */
const insertEntries = rowInserter(flashSaleEntries, ['id', 'dropId', 'userId', 'seq', 'outcome', 'orderId', 'payBy', 'queuedAt', 'decidedAt', 'updatedAt'], { ignoreConflicts: true })

const saleTerms = prepared((q) =>
  q
    .select({
      dropId: flashSaleDrops.id,
      units: flashSaleDrops.units,
      status: flashSaleDrops.status,
      epoch: flashSaleDrops.allocatorEpoch,
      price: flashSaleCampaigns.price,
      paymentWindowSeconds: flashSaleCampaigns.paymentWindowSeconds,
      productId: productTerms.productId,
      title: productTerms.title,
      sku: productTerms.sku,
      regionId: productTerms.regionId,
      currency: productTerms.currency,
      taxBps: productTerms.taxBps,
    })
    .from(flashSaleDrops)
    .innerJoin(flashSaleCampaigns, eq(flashSaleCampaigns.id, flashSaleDrops.campaignId))
    .innerJoin(productTerms, eq(productTerms.productId, flashSaleCampaigns.productId))
    .where(eq(flashSaleDrops.id, ph('dropId')))
    .prepare(),
)

/** What a winner's order is made of: the drop's terms and the product as it is now. */
async function saleTermsOf(tx: Tx, dropId: string) {
  const terms = await saleTerms(tx).get({ dropId })
  if (!terms) throw new Error(`Unknown drop ${dropId}`)
  return terms
}
type SaleTerms = Awaited<ReturnType<typeof saleTermsOf>>

/**
 * `flash_sale` orders of one unit at the campaign price, due after the payment window: one
 * statement per table for all the winners of a batch (one order at a time held the only
 * thread for ~70 ms per 100 winners).
 */
async function placeWinnerOrders(tx: Tx, deps: WinnerOrders, terms: SaleTerms, userIds: string[], at: number) {
  if (!userIds.length) return []
  const customers = new Map((await contactsOf(tx, userIds)).map((c) => [c.id, c]))
  const payBy = isoAt(at + terms.paymentWindowSeconds * 1000)
  const placed = await deps.orders.placeOrders(
    tx,
    userIds.map((userId) => {
      const customer = customers.get(userId)
      return {
        userId,
        source: 'flash_sale' as const,
        regionId: terms.regionId,
        currency: terms.currency,
        customerName: customer?.name ?? '',
        // Copied sealed: a winner's order costs no crypto operation.
        shippingAddressSealed: customer?.addressSealed ?? null,
        items: [{ productId: terms.productId, title: terms.title, sku: terms.sku, unitPrice: terms.price, quantity: 1 }],
        pricesIncludeTax: true,
        taxBps: terms.taxBps,
        paymentDueAt: payBy,
      }
    }),
    isoAt(at),
  )
  return placed.map(({ row }) => ({ orderId: row.id, payBy }))
}

/**
 * Decides a batch of entries in seq order: a unit while the drop has one, the waitlist
 * after. Idempotent: an entry already decided (a replay after a crash) keeps its outcome,
 * but only when SQL decided that seq for that same customer. Refuses to commit for a stale
 * allocator (fencing), when an earlier seq is undecided, or on a seq or customer SQL already
 * decided for another entry (`EntryConflict`: the queue lost its state).
 */
export async function allocateBatch(tx: Tx, deps: WinnerOrders, dropId: string, epoch: number, batch: QueuedEntry[], at: number): Promise<SettledEntry[]> {
  const terms = await saleTermsOf(tx, dropId)
  if (terms.status !== 'open' || terms.epoch !== epoch) throw new StaleAllocator(`Drop ${dropId} is no longer allocated by epoch ${epoch}`)
  const entries = [...batch].sort((a, b) => a.seq - b.seq)
  const decided = new Map((await decidedFrom(tx).all({ dropId, fromSeq: entries[0]?.seq ?? 0 })).map((row) => [row.seq, row]))
  let lastSeq = (await lastDecidedSeq(tx).get({ dropId }))?.seq ?? 0
  let held = await heldUnits(tx, dropId)
  const decidedAt = isoAt(at)
  const settled: SettledEntry[] = []
  const rows: Parameters<typeof insertEntries>[1] = []
  for (const entry of entries) {
    const known = decided.get(entry.seq)
    if (known && known.userId !== entry.userId) throw new EntryConflict(`Drop ${dropId}: seq ${entry.seq} was decided for another customer`)
    if (known) {
      settled.push({ id: entry.id, userId: entry.userId, status: known.outcome })
      continue
    }
    if (entry.seq !== lastSeq + 1) throw new OutOfOrder(`Drop ${dropId}: seq ${entry.seq} arrived before ${lastSeq + 1} was decided`)
    const wins = held < terms.units
    if (wins) held++
    lastSeq = entry.seq
    rows.push({
      id: entry.entryId,
      dropId,
      userId: entry.userId,
      seq: entry.seq,
      outcome: wins ? 'won' : 'waitlisted',
      orderId: null,
      payBy: null,
      queuedAt: isoAt(entry.at),
      decidedAt,
      updatedAt: decidedAt,
    })
    settled.push({ id: entry.id, userId: entry.userId, status: wins ? 'won' : 'waitlisted' })
  }
  // The batch's orders, then its entries, many rows a statement (statements prepared once).
  const winners = rows.filter((row) => row.outcome === 'won')
  const placed = await placeWinnerOrders(tx, deps, terms, winners.map((row) => row.userId), at)
  winners.forEach((row, i) => Object.assign(row, placed[i]))
  await insertDecided(tx, dropId, rows)
  return settled
}

/**
 * Inserts decided entries. Each seq is new here, so only (drop, customer) can clash: a
 * customer SQL already decided under another seq, which means the queue lost its state.
 */
async function insertDecided(tx: Tx, dropId: string, rows: Parameters<typeof insertEntries>[1]) {
  if (!rows.length) return
  if ((await insertEntries(tx, rows)) !== rows.length) throw new EntryConflict(`Drop ${dropId}: a customer of seq ${rows[0]!.seq}–${rows.at(-1)!.seq} was already decided under another seq`)
}

const firstWaitlistedOf = prepared((q) =>
  q
    .select({ id: flashSaleEntries.id, userId: flashSaleEntries.userId })
    .from(flashSaleEntries)
    .where(and(inDrop, eq(flashSaleEntries.outcome, 'waitlisted')))
    .orderBy(asc(flashSaleEntries.seq))
    .limit(1)
    .prepare(),
)
const firstWaitlisted = (tx: Tx, dropId: string) => firstWaitlistedOf(tx).get({ dropId })

/** Winners of the drop who may still not pay (their unit could still pass down the waitlist). */
export const pendingWinners = async (q: Queryable, dropId: string) =>
  (
    await q
      .select({ n: count() })
      .from(flashSaleEntries)
      .innerJoin(orderTerms, eq(orderTerms.id, flashSaleEntries.orderId))
      .where(and(eq(flashSaleEntries.dropId, dropId), eq(flashSaleEntries.outcome, 'won'), eq(orderTerms.status, 'pending_payment')))
      .get()
  )?.n ?? 0

/**
 * Release handler for `flash_sale` orders (unpaid or cancelled): the entry is `expired` and
 * its unit goes to the first waitlisted entry with a new order, after the close too (the
 * waitlist waits while a winner may still not pay). With nobody waiting, an open drop keeps
 * the unit (a later entry can win it); a closed one gives it back to stock now.
 */
export async function releaseWinner(tx: Tx, deps: WinnerOrders, order: ReleasedOrder, at: string) {
  const entry = await tx
    .update(flashSaleEntries)
    .set({ outcome: 'expired', updatedAt: at })
    .where(and(eq(flashSaleEntries.orderId, order.id), eq(flashSaleEntries.outcome, 'won')))
    .returning({ dropId: flashSaleEntries.dropId })
    .get()
  if (!entry) throw new Error(`Flash-sale order ${order.id} has no winning entry`)
  const terms = await saleTermsOf(tx, entry.dropId)
  const next = await firstWaitlisted(tx, entry.dropId)
  if (next) {
    const [promoted] = await placeWinnerOrders(tx, deps, terms, [next.userId], Date.parse(at))
    await tx.update(flashSaleEntries).set({ outcome: 'won', orderId: promoted!.orderId, payBy: promoted!.payBy, updatedAt: at }).where(eq(flashSaleEntries.id, next.id))
  }
  if (terms.status === 'closed') await settleClosedDrop(tx, entry.dropId, at)
}

/**
 * Takes a closed drop as far towards final as it can go. While a winner may still not pay,
 * the waitlist keeps waiting for that unit; once none can, the waitlist is `lost` and the drop
 * is settled (`settled_at`). A unit no winner holds and no waitlisted entry can get goes back
 * to stock (`flash_sale_return`). True when the drop is settled by this call.
 */
export async function settleClosedDrop(tx: Tx, dropId: string, at: string) {
  const drop = await tx
    .select({ units: flashSaleDrops.units, unitsReturned: flashSaleDrops.unitsReturned, productId: flashSaleCampaigns.productId })
    .from(flashSaleDrops)
    .innerJoin(flashSaleCampaigns, eq(flashSaleCampaigns.id, flashSaleDrops.campaignId))
    .where(and(eq(flashSaleDrops.id, dropId), eq(flashSaleDrops.status, 'closed'), isNull(flashSaleDrops.settledAt)))
    .get()
  if (!drop) return false
  const final = (await pendingWinners(tx, dropId)) === 0
  if (final) {
    await tx
      .update(flashSaleEntries)
      .set({ outcome: 'lost', updatedAt: at })
      .where(and(eq(flashSaleEntries.dropId, dropId), eq(flashSaleEntries.outcome, 'waitlisted')))
  } else if (await firstWaitlisted(tx, dropId)) return false
  const spare = Math.max(0, drop.units - drop.unitsReturned - (await heldUnits(tx, dropId)))
  if (spare > 0) {
    const stock = await moveStock(tx, { productId: drop.productId, delta: spare, reason: 'flash_sale_return', ref: dropId }, at)
    if (stock === null) throw new Error(`Cannot return the units of drop ${dropId}`)
  }
  if (spare > 0 || final) await tx.update(flashSaleDrops).set({ unitsReturned: drop.unitsReturned + spare, settledAt: final ? at : null }).where(eq(flashSaleDrops.id, dropId))
  return final
}

/**
 * What SQL decided in a drop, for a queue that lost its state. Raises the allocator epoch
 * first (in this transaction): a batch read from the lost queue and still in flight can no
 * longer commit a seq the restored queue is about to hand out again.
 */
export async function decidedEntries(tx: Tx, dropId: string): Promise<RestoredEntry[]> {
  await claimDrop(tx, dropId)
  const rows = await tx
    .select({ entryId: flashSaleEntries.id, seq: flashSaleEntries.seq, userId: flashSaleEntries.userId, queuedAt: flashSaleEntries.queuedAt, status: flashSaleEntries.outcome })
    .from(flashSaleEntries)
    .where(eq(flashSaleEntries.dropId, dropId))
    .orderBy(asc(flashSaleEntries.seq))
  return rows.map(({ queuedAt, ...row }) => ({ ...row, at: Date.parse(queuedAt) }))
}

/**
 * Opens a scheduled drop: takes its units out of the product's stock (a ledger row). When
 * stock is short the drop opens with what there is (possibly none: then every entry is
 * refused as sold out). Returns the drop's gate, or null when it was not scheduled.
 */
export async function openDropTx(tx: Tx, dropId: string, at: string) {
  const drop = await tx
    .update(flashSaleDrops)
    .set({ status: 'open', openedAt: at })
    .where(and(eq(flashSaleDrops.id, dropId), eq(flashSaleDrops.status, 'scheduled')))
    .returning()
    .get()
  if (!drop) return null
  const product = await tx
    .select({ id: productTerms.productId, stock: productTerms.stock, deletedAt: productTerms.deletedAt })
    .from(flashSaleCampaigns)
    .innerJoin(productTerms, eq(productTerms.productId, flashSaleCampaigns.productId))
    .where(eq(flashSaleCampaigns.id, drop.campaignId))
    .get()
  const units = product && !product.deletedAt ? Math.min(drop.units, product.stock) : 0
  if (units > 0) await moveStock(tx, { productId: product!.id, delta: -units, reason: 'flash_sale_reserve', ref: drop.id }, at)
  if (units !== drop.units) await tx.update(flashSaleDrops).set({ units }).where(eq(flashSaleDrops.id, dropId))
  return units
}

/**
 * Closes an open drop whose every entry is decided, then settles what it can: units no
 * winner holds go back to stock; the waitlist is lost unless a winner may still not pay.
 * False when it was not open.
 */
export async function closeDropTx(tx: Tx, dropId: string, at: string) {
  const drop = await tx
    .update(flashSaleDrops)
    .set({ status: 'closed', closedAt: at })
    .where(and(eq(flashSaleDrops.id, dropId), eq(flashSaleDrops.status, 'open')))
    .returning({ id: flashSaleDrops.id })
    .get()
  if (!drop) return false
  await settleClosedDrop(tx, dropId, at)
  return true
}
