/**
 * Business invariants checked from outside after a run. Each is a k6 `check` named
 * `invariant: …`, so a broken one fails the run (the scenarios hold `checks: rate==1`).
 */
import { eq } from 'drizzle-orm'
import { check } from './k6'
import { api, listAll } from './shop'
import type { Account, Fixtures } from './fixtures'
import { flashSaleEntries } from '../../src/modules/flash-sale/schema'
import type { Queryable } from '../../src/db/client'
import { moneyViolations } from './money'

export interface LedgerExpectation {
  id: string
  expectedStock: number
}

/** How long a product's shown stock may lag the ledger: the catalog caches reads (CATALOG_CACHE_MS, 250 ms by default). */
const CACHE_GRACE_MS = 2000

async function ledgerOf(base: string, admin: string, { id, expectedStock }: LedgerExpectation) {
  const deadline = Date.now() + CACHE_GRACE_MS
  for (;;) {
    const product = await api('GET', `${base}/v1/products/${id}`, null)
    const movements = await listAll<{ delta: number }>(`${base}/v1/products/${id}/movements`, admin)
    const found = { stock: product.stock as number, ledger: movements.reduce((sum, m) => sum + m.delta, 0), expectedStock }
    if ((found.stock === found.ledger && found.stock === expectedStock) || Date.now() > deadline) return found
    await Bun.sleep(100)
  }
}

/** Each product's ledger sums to its stock, and the stock is what the run should have left. */
export async function verifyLedgers(base: string, admin: string, products: LedgerExpectation[]) {
  const results = await Promise.all(products.map((p) => ledgerOf(base, admin, p)))
  check(results, {
    'invariant: ledger rows sum to the stock': (rs) => rs.every((r) => r.ledger === r.stock),
    'invariant: stock fell by exactly what was sold': (rs) => rs.every((r) => r.stock === r.expectedStock),
  })
}

/** How long the money may take to come to rest after a run (webhooks in flight, void and refund jobs). */
const MONEY_GRACE_MS = 10_000

/** The money invariant (./money.ts), read from the server's database once it is quiet: the gateway's charges against our payments and orders. */
export async function verifyMoney(db: Queryable) {
  const deadline = Date.now() + MONEY_GRACE_MS
  let broken = await moneyViolations(db)
  while (broken.length && Date.now() < deadline) {
    await Bun.sleep(250)
    broken = await moneyViolations(db)
  }
  if (broken.length) console.error(`money invariant broken:\n  ${broken.slice(0, 20).join('\n  ')}`)
  check(broken, { 'invariant: money adds up (each captured charge is a paid order’s one payment, or refunded)': (list) => list.length === 0 })
}

export interface AuditEntry {
  seq: number
  customer_hash: string
  outcome: 'won' | 'expired' | 'lost'
}

export interface DropVerdict {
  entries: number
  winners: number
  /** When the units-th entry was accepted (server clock, epoch ms), from the allocation rows. */
  lastWinnerQueuedAt: number | null
  /** When each decided entry was accepted, and when each winner was decided (epoch ms, from the allocation rows): the report's stampede timeline. */
  acceptedAt: number[]
  winnersDecidedAt: number[]
}

const sha256 = (text: string) => new Bun.CryptoHasher('sha256').update(text).digest('hex')

/** Runs `fn` over `items` with at most `parallel` at a time. */
async function eachLimited<T, R>(items: T[], parallel: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(parallel, items.length) }, async () => {
      while (next < items.length) {
        const i = next++
        out[i] = await fn(items[i]!)
      }
    }),
  )
  return out
}

/** Waits for the drop to close (its audit answers 200 only then). */
async function closedAudit(base: string, dropId: string, closesAt: number) {
  const deadline = closesAt + 30_000
  for (;;) {
    const res = await fetch(`${base}/v1/flash-sales/drops/${dropId}/audit`)
    if (res.status === 200) return (await res.json()) as { units: number; salt: string; final: boolean; entries: AuditEntry[] }
    if (res.status !== 409 || Date.now() > deadline) throw new Error(`audit of drop ${dropId} answered ${res.status}: ${await res.text()}`)
    await Bun.sleep(Math.max(100, Math.min(1000, closesAt - Date.now())))
  }
}

/** What a run knows about its drop. */
export interface DropFacts {
  base: string
  /** An admin's access token. */
  admin: string
  dropId: string
  closesAt: number
  productId: string
  /** Units the drop was planned with, and the product's stock before it opened. */
  units: number
  stockBefore: number
  customers: Account[]
}

/**
 * After the drop closed: winners == units, the winners are the smallest seqs, one entry per
 * customer, every accepted customer is in the audit with the seq they were given, each
 * winner holds one flash-sale order for the product, and stock and ledger agree.
 */
export async function verifyDrop(c: DropFacts & { fixtures: Fixtures }): Promise<DropVerdict> {
  const audit = await closedAudit(c.base, c.dropId, c.closesAt)
  const mine = await eachLimited(c.customers, 32, async (customer) => {
    const res = await fetch(`${c.base}/v1/flash-sales/drops/${c.dropId}/entries/me`, { headers: { authorization: `Bearer ${customer.token}` } })
    if (res.status === 404) return null
    if (res.status !== 200) throw new Error(`entries/me answered ${res.status}: ${await res.text()}`)
    return { customer, entry: (await res.json()) as { seq: number; status: string; order_id?: string } }
  })
  const entered = mine.filter((m) => m !== null)
  // While a winner may still not pay, the waitlist waits for that unit and the audit holds it back.
  const heldBack = (entry: { status: string }) => !audit.final && entry.status === 'waitlisted'
  const winners = audit.entries.filter((e) => e.outcome !== 'lost')
  const units = Math.min(c.units, audit.entries.length)
  const bySeq = new Map(audit.entries.map((e) => [e.seq, e]))

  check(audit, {
    'invariant: winners == units': (a) => a.units === c.units && winners.length === units,
    'invariant: winners are the smallest seqs': (a) => a.entries.every((e, i) => i < units === (e.outcome !== 'lost')),
    'invariant: seqs strictly increase, one entry per customer': (a) =>
      a.entries.every((e, i) => i === 0 || e.seq > a.entries[i - 1]!.seq) && new Set(a.entries.map((e) => e.customer_hash)).size === a.entries.length,
  })
  check(entered, {
    'invariant: every entered customer is in the audit with their seq (the waitlist once final)': (list) =>
      list.filter(({ entry }) => !heldBack(entry)).length === audit.entries.length &&
      list.every(({ customer, entry }) => (heldBack(entry) ? !bySeq.has(entry.seq) : bySeq.get(entry.seq)?.customer_hash === sha256(`${audit.salt}:${customer.id}`))),
    'invariant: every entry ended won or lost (or waitlisted while a winner may still pay)': (list) => list.every(({ entry }) => entry.status === 'won' || entry.status === 'lost' || heldBack(entry)),
  })

  const orders = await eachLimited(
    entered.filter(({ entry }) => entry.status === 'won'),
    32,
    ({ customer, entry }) => api('GET', `${c.base}/v1/orders/${entry.order_id}`, customer.token),
  )
  check(orders, {
    'invariant: each winner holds one flash-sale order of one unit': (list) =>
      list.length === units &&
      new Set(list.map((o) => o.id)).size === units &&
      list.every((o) => o.source === 'flash_sale' && o.items.length === 1 && o.items[0].product_id === c.productId && o.items[0].quantity === 1),
  })
  await verifyLedgers(c.base, c.admin, [{ id: c.productId, expectedStock: c.stockBefore - units }])
  await verifyMoney(c.fixtures.database.db)

  const rows = await c.fixtures.database.db
    .select({ seq: flashSaleEntries.seq, outcome: flashSaleEntries.outcome, queuedAt: flashSaleEntries.queuedAt, decidedAt: flashSaleEntries.decidedAt })
    .from(flashSaleEntries)
    .where(eq(flashSaleEntries.dropId, c.dropId))
  const lastWinner = rows.find((row) => row.seq === units)
  return {
    entries: entered.length,
    winners: winners.length,
    lastWinnerQueuedAt: lastWinner ? Date.parse(lastWinner.queuedAt) : null,
    acceptedAt: rows.map((row) => Date.parse(row.queuedAt)),
    // A winner whose order has since expired or been cancelled was still decided a winner.
    winnersDecidedAt: rows.filter((row) => row.seq <= units).map((row) => Date.parse(row.decidedAt)),
  }
}
