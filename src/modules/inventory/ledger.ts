import { and, eq, sql } from 'drizzle-orm'
import type { Tx } from '../../db/client'
import { products } from '../catalog/schema'
import { stockMovements, type StockReason } from './schema'

export interface StockMove {
  productId: string
  delta: number
  reason: StockReason
  ref?: string | null
  supplier?: string | null
  actorId?: string | null
}

/**
 * The only way stock changes: a guarded update (never below zero) and its ledger row, in
 * the caller's write transaction. Returns the stock after the move, or null when the
 * product is unknown or the move would take it below zero (then nothing was written).
 */
export async function moveStock(tx: Tx, move: StockMove, at: string): Promise<number | null> {
  const row = await tx
    .update(products)
    .set({ stock: sql`${products.stock} + ${move.delta}`, updatedAt: at })
    .where(and(eq(products.id, move.productId), sql`${products.stock} + ${move.delta} >= 0`))
    .returning({ stock: products.stock })
    .get()
  if (!row) return null
  await tx.insert(stockMovements).values({
    productId: move.productId,
    delta: move.delta,
    reason: move.reason,
    ref: move.ref ?? null,
    supplier: move.supplier ?? null,
    stockAfter: row.stock,
    actorId: move.actorId ?? null,
    createdAt: at,
  })
  return row.stock
}

/** Current stock of a product (live or deleted), or null when unknown. */
export async function stockOf(tx: Tx, productId: string): Promise<number | null> {
  const row = await tx.select({ stock: products.stock }).from(products).where(eq(products.id, productId)).get()
  return row?.stock ?? null
}
