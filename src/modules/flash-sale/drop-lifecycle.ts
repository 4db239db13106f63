// A drop's life after allocation: opening (units out of stock), closing, settling, and a
// winner's unit passing down the waitlist. Each inside the caller's write transaction.
import { and, asc, count, eq, isNull } from 'drizzle-orm'
import { prepared, type Queryable, type Tx } from '../../db/client'
import { moveStock, productTerms } from '../catalog'
import { orderTerms, type ReleasedOrder } from '../orders'
import { heldUnits, inDrop, placeWinnerOrders, saleTermsOf, type WinnerOrders } from './allocation'
import { flashSaleCampaigns, flashSaleDrops, flashSaleEntries } from './schema'

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
 * the unit (a later entry can win it); a closed one gives it back to stock now. A refund
 * hands the unit down the same way only before shipping and while someone waits for it;
 * otherwise the unit is back in stock (ledger reason `refund`) and the entry stays `won`.
 */
export async function releaseWinner(tx: Tx, deps: WinnerOrders, order: ReleasedOrder, at: string) {
  if (order.status === 'refunded' && !(order.from === 'paid' && (await waitlistLive(tx, order.id)))) return restock(tx, order, at)
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

/** Someone waits for a unit of the drop this order won (and the drop is not settled). */
async function waitlistLive(tx: Tx, orderId: string) {
  const entry = await tx
    .select({ dropId: flashSaleEntries.dropId })
    .from(flashSaleEntries)
    .innerJoin(flashSaleDrops, eq(flashSaleDrops.id, flashSaleEntries.dropId))
    .where(and(eq(flashSaleEntries.orderId, orderId), isNull(flashSaleDrops.settledAt)))
    .get()
  return entry !== undefined && (await firstWaitlisted(tx, entry.dropId)) !== undefined
}

async function restock(tx: Tx, order: ReleasedOrder, at: string) {
  for (const item of order.items) {
    if ((await moveStock(tx, { productId: item.productId, delta: item.quantity, reason: 'refund', ref: order.id }, at)) === null) throw new Error(`Cannot restock order ${order.id}`)
  }
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
  if (spare > 0 || final)
    await tx
      .update(flashSaleDrops)
      .set({ unitsReturned: drop.unitsReturned + spare, settledAt: final ? at : null })
      .where(eq(flashSaleDrops.id, dropId))
  return final
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
