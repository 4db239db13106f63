import { and, asc, eq, gt, inArray, isNull } from 'drizzle-orm'
import type { Database, Queryable, Tx } from '../../db/client'
import type { Clock } from '../../lib/clock'
import { AppError, invalid, notFound } from '../../lib/errors'
import { newId } from '../../lib/ids'
import { DEFAULT_PAGE_SIZE, cursorAfter, isIntegerKey, isStringKey, pageOf } from '../../lib/pages'
import { moveStock, productTerms, stockMovementsOf, stockOf, type StockMovement } from '../catalog'
import type { PurchaseDto, PurchaseInput, StockInput } from './model'
import { purchaseItems, purchases } from './schema'

type PurchaseRow = typeof purchases.$inferSelect

const insufficientStock = (available: number) => new AppError(409, 'insufficient_stock', `Stock cannot go below 0 (${available} available)`, { extra: { available } })

const toMovement = (row: StockMovement) => ({
  id: row.id,
  delta: row.delta,
  reason: row.reason,
  ref: row.ref,
  ...(row.supplier === null ? {} : { supplier: row.supplier }),
  stock_after: row.stockAfter,
  actor_id: row.actorId,
  created_at: row.createdAt,
})

/** The lines of each purchase with the currency of their product's region, in one query. */
async function purchaseLines(db: Queryable, purchaseIds: string[]) {
  const rows = purchaseIds.length
    ? await db
        .select({ purchaseId: purchaseItems.purchaseId, product_id: purchaseItems.productId, quantity: purchaseItems.quantity, unit_cost: purchaseItems.unitCost, currency: productTerms.currency })
        .from(purchaseItems)
        .innerJoin(productTerms, eq(productTerms.productId, purchaseItems.productId))
        .where(inArray(purchaseItems.purchaseId, purchaseIds))
        .orderBy(asc(purchaseItems.purchaseId), asc(purchaseItems.line))
    : []
  const lines = new Map<string, PurchaseDto['items']>(purchaseIds.map((id) => [id, []]))
  for (const { purchaseId, ...line } of rows) lines.get(purchaseId)!.push(line)
  return lines
}

const toPurchase = (row: PurchaseRow, items: PurchaseDto['items']): PurchaseDto => ({
  id: row.id,
  supplier: row.supplier,
  items,
  created_by: row.createdBy,
  created_at: row.createdAt,
})

export interface InventoryDeps {
  database: Database
  clock: Clock
  /** Called after an admin adjustment or a purchase commits (the catalog drops its cached pages). */
  onStockChanged?: () => void
}

export class InventoryService {
  constructor(private readonly deps: InventoryDeps) {}

  /** A write whose stock change an admin expects to see at once on this instance. */
  private async write<T>(fn: (tx: Tx) => Promise<T>) {
    const result = await this.deps.database.write(fn)
    this.deps.onStockChanged?.()
    return result
  }

  /**
   * An admin adjustment: `delta` moves stock by that much, `set` to that figure. A `set`
   * is turned into a delta inside the write transaction, so sales committed just before
   * it are counted and none after it is lost.
   */
  async adjust(actorId: string, productId: string, { delta, set, reason }: StockInput) {
    if ((delta === undefined) === (set === undefined)) throw invalid([{ field: 'body', message: 'Send exactly one of delta or set' }])
    if (delta === 0) throw invalid([{ field: 'delta', message: 'Must not be 0' }])
    const at = this.deps.clock.iso()
    return this.write(async (tx) => {
      const product = await tx
        .select({ stock: productTerms.stock })
        .from(productTerms)
        .where(and(eq(productTerms.productId, productId), isNull(productTerms.deletedAt)))
        .get()
      if (!product) throw notFound('Product')
      const change = set === undefined ? delta! : set - product.stock
      if (change === 0) return { stock: product.stock }
      const stock = await moveStock(tx, { productId, delta: change, reason: 'adjustment', ref: reason.trim(), actorId }, at)
      if (stock === null) throw insufficientStock(product.stock)
      return { stock }
    })
  }

  /** The ledger of a product, oldest first; kept (and shown) after the product is deleted. */
  async movements(productId: string, limit = DEFAULT_PAGE_SIZE, cursor?: string) {
    const after = cursorAfter(cursor, isIntegerKey)
    const db = this.deps.database.db
    if ((await stockOf(db, productId)) === null) throw notFound('Product')
    const rows = await stockMovementsOf(db, productId, after, limit + 1)
    return pageOf(rows, limit, (r) => r.id, toMovement)
  }

  /** Goods received: every line's stock rises in one transaction, or nothing happens. */
  async receive(actorId: string, input: PurchaseInput) {
    const purchase: PurchaseRow = { id: newId(), supplier: input.supplier.trim(), createdBy: actorId, createdAt: this.deps.clock.iso() }
    const productIds = [...new Set(input.items.map((i) => i.product_id))]
    return this.write(async (tx) => {
      const found = await tx
        .select({ id: productTerms.productId, currency: productTerms.currency })
        .from(productTerms)
        .where(and(inArray(productTerms.productId, productIds), isNull(productTerms.deletedAt)))
      const currencyOf = new Map(found.map((p) => [p.id, p.currency]))
      const errors = input.items.flatMap((item, i) => (currencyOf.has(item.product_id) ? [] : [{ field: `items.${i}.product_id`, message: 'No such product' }]))
      if (errors.length) throw invalid(errors)
      await tx.insert(purchases).values(purchase)
      await tx.insert(purchaseItems).values(input.items.map((i, line) => ({ purchaseId: purchase.id, line, productId: i.product_id, quantity: i.quantity, unitCost: i.unit_cost })))
      for (const item of input.items) {
        const move = { productId: item.product_id, delta: item.quantity, reason: 'purchase' as const, ref: purchase.id, supplier: purchase.supplier, actorId }
        await moveStock(tx, move, purchase.createdAt)
      }
      return toPurchase(
        purchase,
        input.items.map((i) => ({ ...i, currency: currencyOf.get(i.product_id)! })),
      )
    })
  }

  async purchases(limit = DEFAULT_PAGE_SIZE, cursor?: string) {
    const after = cursorAfter(cursor, isStringKey)
    const db = this.deps.database.db
    const rows = await db
      .select()
      .from(purchases)
      .where(after ? gt(purchases.id, after) : undefined)
      .orderBy(asc(purchases.id))
      .limit(limit + 1)
    const lines = await purchaseLines(
      db,
      rows.slice(0, limit).map((r) => r.id),
    )
    return pageOf(
      rows,
      limit,
      (r) => r.id,
      (r) => toPurchase(r, lines.get(r.id)!),
    )
  }
}
