// The allocator's writes, each inside the caller's write transaction (SQL only, no Redis).
import { and, asc, count, eq, gte, max, sql } from 'drizzle-orm'
import type { Tx } from '../../db/client'
import type { QueuedEntry, SettledEntry } from '../../infra/queue'
import { open, type DataKey } from '../../lib/crypto'
import { isoAt } from '../../lib/clock'
import type { AddressInput } from '../accounts/model'
import { users } from '../accounts/schema'
import { products } from '../catalog/schema'
import { moveStock } from '../inventory/ledger'
import type { OrderLifecycle, ReleasedOrder } from '../orders/lifecycle'
import { regions } from '../regions/schema'
import { flashSaleCampaigns, flashSaleDrops, flashSaleEntries } from './schema'

/** Another allocator took the drop over (its epoch is newer), or the drop is no longer open. */
export class StaleAllocator extends Error {}
/** An entry arrived before an earlier seq was decided: the batch must be replayed in order. */
export class OutOfOrder extends Error {}

export interface WinnerOrders {
  orders: Pick<OrderLifecycle, 'placeOrder'>
  dataKeys: DataKey[]
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

const heldUnits = async (tx: Tx, dropId: string) =>
  (await tx.select({ n: count() }).from(flashSaleEntries).where(and(eq(flashSaleEntries.dropId, dropId), eq(flashSaleEntries.outcome, 'won'))).get())?.n ?? 0

/** What a winner's order is made of: the drop's terms and the product as it is now. */
async function saleTermsOf(tx: Tx, dropId: string) {
  const terms = await tx
    .select({
      dropId: flashSaleDrops.id,
      units: flashSaleDrops.units,
      status: flashSaleDrops.status,
      epoch: flashSaleDrops.allocatorEpoch,
      price: flashSaleCampaigns.price,
      paymentWindowSeconds: flashSaleCampaigns.paymentWindowSeconds,
      productId: products.id,
      title: products.title,
      sku: products.sku,
      regionId: regions.id,
      currency: regions.currency,
      taxBps: regions.taxBps,
    })
    .from(flashSaleDrops)
    .innerJoin(flashSaleCampaigns, eq(flashSaleCampaigns.id, flashSaleDrops.campaignId))
    .innerJoin(products, eq(products.id, flashSaleCampaigns.productId))
    .innerJoin(regions, eq(regions.id, products.regionId))
    .where(eq(flashSaleDrops.id, dropId))
    .get()
  if (!terms) throw new Error(`Unknown drop ${dropId}`)
  return terms
}
type SaleTerms = Awaited<ReturnType<typeof saleTermsOf>>

/** A `flash_sale` order for one unit at the campaign price, due after the payment window. */
async function placeWinnerOrder(tx: Tx, deps: WinnerOrders, terms: SaleTerms, userId: string, at: number) {
  const customer = await tx.select({ name: users.name, address: users.addressSealed }).from(users).where(eq(users.id, userId)).get()
  const payBy = isoAt(at + terms.paymentWindowSeconds * 1000)
  const orderId = await deps.orders.placeOrder(
    tx,
    {
      userId,
      source: 'flash_sale',
      regionId: terms.regionId,
      currency: terms.currency,
      customerName: customer?.name ?? '',
      shippingAddress: customer?.address ? (JSON.parse(open(customer.address, deps.dataKeys)) as AddressInput) : null,
      items: [{ productId: terms.productId, title: terms.title, sku: terms.sku, unitPrice: terms.price, quantity: 1 }],
      pricesIncludeTax: true,
      taxBps: terms.taxBps,
      paymentDueAt: payBy,
    },
    isoAt(at),
  )
  return { orderId, payBy }
}

/**
 * Decides a batch of entries in seq order: a unit while the drop has one, the waitlist
 * after. Idempotent: an entry already decided (a replay after a crash) keeps its outcome.
 * Refuses to commit for a stale allocator (fencing) or when an earlier seq is undecided.
 */
export async function allocateBatch(tx: Tx, deps: WinnerOrders, dropId: string, epoch: number, batch: QueuedEntry[], at: number): Promise<SettledEntry[]> {
  const terms = await saleTermsOf(tx, dropId)
  if (terms.status !== 'open' || terms.epoch !== epoch) throw new StaleAllocator(`Drop ${dropId} is no longer allocated by epoch ${epoch}`)
  const entries = [...batch].sort((a, b) => a.seq - b.seq)
  const decided = new Map(
    (
      await tx
        .select({ seq: flashSaleEntries.seq, outcome: flashSaleEntries.outcome })
        .from(flashSaleEntries)
        .where(and(eq(flashSaleEntries.dropId, dropId), gte(flashSaleEntries.seq, entries[0]?.seq ?? 0)))
    ).map((row) => [row.seq, row.outcome]),
  )
  let lastSeq = (await tx.select({ seq: max(flashSaleEntries.seq) }).from(flashSaleEntries).where(eq(flashSaleEntries.dropId, dropId)).get())?.seq ?? 0
  let held = await heldUnits(tx, dropId)
  const settled: SettledEntry[] = []
  for (const entry of entries) {
    const known = decided.get(entry.seq)
    if (known) {
      settled.push({ id: entry.id, userId: entry.userId, status: known })
      continue
    }
    if (entry.seq !== lastSeq + 1) throw new OutOfOrder(`Drop ${dropId}: seq ${entry.seq} arrived before ${lastSeq + 1} was decided`)
    const wins = held < terms.units
    const order = wins ? await placeWinnerOrder(tx, deps, terms, entry.userId, at) : null
    await tx.insert(flashSaleEntries).values({
      id: entry.entryId,
      dropId,
      userId: entry.userId,
      seq: entry.seq,
      outcome: wins ? 'won' : 'waitlisted',
      orderId: order?.orderId ?? null,
      payBy: order?.payBy ?? null,
      queuedAt: isoAt(entry.at),
      decidedAt: isoAt(at),
      updatedAt: isoAt(at),
    })
    if (wins) held++
    lastSeq = entry.seq
    settled.push({ id: entry.id, userId: entry.userId, status: wins ? 'won' : 'waitlisted' })
  }
  return settled
}

/**
 * Release handler for `flash_sale` orders (unpaid or cancelled): the entry is `expired` and
 * its unit goes to the first waitlisted entry with a new order. With nobody waiting the unit
 * stays in the open drop (it returns to stock when the drop closes); once closed, it returns now.
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
  if (terms.status !== 'open') {
    const stock = await moveStock(tx, { productId: terms.productId, delta: 1, reason: 'flash_sale_return', ref: entry.dropId }, at)
    if (stock === null) throw new Error(`Cannot return the unit of order ${order.id}`)
    return
  }
  const next = await tx
    .select({ id: flashSaleEntries.id, userId: flashSaleEntries.userId })
    .from(flashSaleEntries)
    .where(and(eq(flashSaleEntries.dropId, entry.dropId), eq(flashSaleEntries.outcome, 'waitlisted')))
    .orderBy(asc(flashSaleEntries.seq))
    .limit(1)
    .get()
  if (!next) return
  const promoted = await placeWinnerOrder(tx, deps, terms, next.userId, Date.parse(at))
  await tx.update(flashSaleEntries).set({ outcome: 'won', orderId: promoted.orderId, payBy: promoted.payBy, updatedAt: at }).where(eq(flashSaleEntries.id, next.id))
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
    .select({ id: products.id, stock: products.stock, deletedAt: products.deletedAt })
    .from(flashSaleCampaigns)
    .innerJoin(products, eq(products.id, flashSaleCampaigns.productId))
    .where(eq(flashSaleCampaigns.id, drop.campaignId))
    .get()
  const units = product && !product.deletedAt ? Math.min(drop.units, product.stock) : 0
  if (units > 0) await moveStock(tx, { productId: product!.id, delta: -units, reason: 'flash_sale_reserve', ref: drop.id }, at)
  if (units !== drop.units) await tx.update(flashSaleDrops).set({ units }).where(eq(flashSaleDrops.id, dropId))
  return units
}

/**
 * Closes an open drop whose every entry is decided: the waitlist is `lost` and the units no
 * winner holds go back to stock. False when it was not open.
 */
export async function closeDropTx(tx: Tx, dropId: string, at: string) {
  const drop = await tx
    .update(flashSaleDrops)
    .set({ status: 'closed', closedAt: at })
    .where(and(eq(flashSaleDrops.id, dropId), eq(flashSaleDrops.status, 'open')))
    .returning({ units: flashSaleDrops.units, campaignId: flashSaleDrops.campaignId })
    .get()
  if (!drop) return false
  const leftover = drop.units - (await heldUnits(tx, dropId))
  if (leftover > 0) {
    const campaign = await tx.select({ productId: flashSaleCampaigns.productId }).from(flashSaleCampaigns).where(eq(flashSaleCampaigns.id, drop.campaignId)).get()
    const stock = await moveStock(tx, { productId: campaign!.productId, delta: leftover, reason: 'flash_sale_return', ref: dropId }, at)
    if (stock === null) throw new Error(`Cannot return the units of drop ${dropId}`)
  }
  await tx
    .update(flashSaleEntries)
    .set({ outcome: 'lost', updatedAt: at })
    .where(and(eq(flashSaleEntries.dropId, dropId), eq(flashSaleEntries.outcome, 'waitlisted')))
  return true
}
