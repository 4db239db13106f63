// Allocation: the allocator's writes, each inside the caller's write transaction (SQL only, no Redis).
import { and, asc, count, eq, gte, max, sql } from 'drizzle-orm'
import { prepared, type Database, type Tx } from '../../db/client'
import { rowInserter } from '../../db/row-inserter'
import type { QueuedEntry, RestoredEntry, SettledEntry } from './queue/port'
import { isoAt } from '../../lib/clock'
import { newId } from '../../lib/ids'
import { contactsOf, someAccountIds } from '../accounts'
import { productTerms } from '../catalog'
import type { OrderLifecycle } from '../orders'
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
export const inDrop = eq(flashSaleEntries.dropId, ph('dropId'))

const wonCount = prepared((q) =>
  q
    .select({ n: count() })
    .from(flashSaleEntries)
    .where(and(inDrop, eq(flashSaleEntries.outcome, 'won')))
    .prepare(),
)
export const heldUnits = async (tx: Tx, dropId: string) => (await wonCount(tx).get({ dropId }))?.n ?? 0

const decidedFrom = prepared((q) =>
  q
    .select({ seq: flashSaleEntries.seq, userId: flashSaleEntries.userId, outcome: flashSaleEntries.outcome })
    .from(flashSaleEntries)
    .where(and(inDrop, gte(flashSaleEntries.seq, ph('fromSeq'))))
    .prepare(),
)
const lastDecidedSeq = prepared((q) =>
  q
    .select({ seq: max(flashSaleEntries.seq) })
    .from(flashSaleEntries)
    .where(inDrop)
    .prepare(),
)
/** Each seq is new here, so only (drop, customer) can clash: see `insertDecided`. */
const insertEntries = rowInserter(flashSaleEntries, ['id', 'dropId', 'userId', 'seq', 'outcome', 'orderId', 'payBy', 'queuedAt', 'decidedAt', 'updatedAt'], { ignoreConflicts: true })

const saleTerms = prepared((q) =>
  q
    .select({
      dropId: flashSaleDrops.id,
      units: flashSaleDrops.units,
      status: flashSaleDrops.status,
      epoch: flashSaleDrops.allocatorEpoch,
      price: flashSaleDrops.price,
      paymentWindowSeconds: flashSaleDrops.paymentWindowSeconds,
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
export async function saleTermsOf(tx: Tx, dropId: string) {
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
export async function placeWinnerOrders(tx: Tx, deps: WinnerOrders, terms: SaleTerms, userIds: string[], at: number) {
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
 * decided for another entry (`EntryConflict`: the queue lost its state). Stops before the
 * entry that would be winner number `maxWinners + 1`: what it returns is the decided prefix.
 */
export async function allocateBatch(tx: Tx, deps: WinnerOrders, dropId: string, epoch: number, batch: QueuedEntry[], at: number, maxWinners = Number.POSITIVE_INFINITY): Promise<SettledEntry[]> {
  const terms = await saleTermsOf(tx, dropId)
  if (terms.status !== 'open' || terms.epoch !== epoch) throw new StaleAllocator(`Drop ${dropId} is no longer allocated by epoch ${epoch}`)
  const entries = [...batch].sort((a, b) => a.seq - b.seq)
  const decided = new Map((await decidedFrom(tx).all({ dropId, fromSeq: entries[0]?.seq ?? 0 })).map((row) => [row.seq, row]))
  let lastSeq = (await lastDecidedSeq(tx).get({ dropId }))?.seq ?? 0
  let held = await heldUnits(tx, dropId)
  const decidedAt = isoAt(at)
  const settled: SettledEntry[] = []
  const rows: Parameters<typeof insertEntries>[1] = []
  let placing = 0
  for (const entry of entries) {
    const known = decided.get(entry.seq)
    if (known && known.userId !== entry.userId) throw new EntryConflict(`Drop ${dropId}: seq ${entry.seq} was decided for another customer`)
    if (known) {
      settled.push({ id: entry.id, userId: entry.userId, status: known.outcome })
      continue
    }
    if (entry.seq !== lastSeq + 1) throw new OutOfOrder(`Drop ${dropId}: seq ${entry.seq} arrived before ${lastSeq + 1} was decided`)
    const wins = held < terms.units
    if (wins && placing === maxWinners) break
    if (wins) {
      held++
      placing++
    }
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
  const placed = await placeWinnerOrders(
    tx,
    deps,
    terms,
    winners.map((row) => row.userId),
    at,
  )
  winners.forEach((row, i) => Object.assign(row, placed[i]))
  await insertDecided(tx, dropId, rows)
  return settled
}

/** Thrown inside a rehearsal's transaction, so that it rolls back. */
class Rehearsed extends Error {}

/**
 * `allocateBatch` for a drop that has not opened yet, on up to `entries` made-up entries of
 * real accounts (their rows are referenced), rolled back: nothing is written, but the first
 * real batch no longer runs cold code and statements. A cold 100-winner transaction held the
 * process's one thread ~45 ms against ~20 ms warm, the stampede's requests waiting behind it.
 */
export async function rehearseAllocation(database: Database, deps: WinnerOrders, dropId: string, epoch: number, at: number, entries: number, maxWinners: number) {
  await database
    .write(async (tx) => {
      const batch = (await someAccountIds(tx, entries)).map((userId, i) => ({ id: `rehearsal-${i + 1}`, entryId: newId(), seq: i + 1, userId, at }))
      await allocateBatch(tx, deps, dropId, epoch, batch, at, maxWinners)
      throw new Rehearsed()
    })
    .catch((error) => {
      if (!(error instanceof Rehearsed)) throw error
    })
}

/**
 * Inserts decided entries. Each seq is new here, so only (drop, customer) can clash: a
 * customer SQL already decided under another seq, which means the queue lost its state.
 */
async function insertDecided(tx: Tx, dropId: string, rows: Parameters<typeof insertEntries>[1]) {
  if (!rows.length) return
  if ((await insertEntries(tx, rows)) !== rows.length) throw new EntryConflict(`Drop ${dropId}: a customer of seq ${rows[0]!.seq}–${rows.at(-1)!.seq} was already decided under another seq`)
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
