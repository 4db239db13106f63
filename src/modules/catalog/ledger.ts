import { and, asc, eq, gt, sql } from 'drizzle-orm'
import { prepared, type Queryable, type Tx } from '../../db/client'
import { rowInserter } from '../../db/row-inserter'
import { products, stockMovements, type StockReason } from './schema'

const delta = sql.placeholder('delta')
/** Never below zero: the row only changes when the result stays at or above it. */
const applyDelta = prepared((q) =>
  q
    .update(products)
    .set({ stock: sql`${products.stock} + ${delta}`, updatedAt: sql`${sql.placeholder('at')}` })
    .where(and(eq(products.id, sql.placeholder('productId')), sql`${products.stock} + ${delta} >= 0`))
    .returning({ stock: products.stock })
    .prepare(),
)
const insertMovements = rowInserter(stockMovements, ['productId', 'delta', 'reason', 'ref', 'supplier', 'stockAfter', 'actorId', 'createdAt'])

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
  const row = await applyDelta(tx).get({ productId: move.productId, delta: move.delta, at })
  if (!row) return null
  await insertMovements(tx, [
    {
      productId: move.productId,
      delta: move.delta,
      reason: move.reason,
      ref: move.ref ?? null,
      supplier: move.supplier ?? null,
      stockAfter: row.stock,
      actorId: move.actorId ?? null,
      createdAt: at,
    },
  ])
  return row.stock
}

/** Current stock of a product (live or deleted), or null when unknown. */
export async function stockOf(q: Queryable, productId: string): Promise<number | null> {
  const row = await q.select({ stock: products.stock }).from(products).where(eq(products.id, productId)).get()
  return row?.stock ?? null
}

export type StockMovement = typeof stockMovements.$inferSelect

/** Up to `limit` ledger rows of a product after the row `afterId`, oldest first; kept after the product is deleted. */
export const stockMovementsOf = (q: Queryable, productId: string, afterId: number | undefined, limit: number): Promise<StockMovement[]> =>
  q
    .select()
    .from(stockMovements)
    .where(and(eq(stockMovements.productId, productId), afterId === undefined ? undefined : gt(stockMovements.id, afterId)))
    .orderBy(asc(stockMovements.id))
    .limit(limit)

const applyDeltas = (tx: Tx, deltas: { id: string; delta: number }[], at: string) =>
  tx.all<{ id: string; stock: number }>(sql`
    UPDATE ${products} SET stock = stock + m.delta, updated_at = ${at}
    FROM (SELECT value ->> '$.id' AS id, value ->> '$.delta' AS delta FROM json_each(${JSON.stringify(deltas)})) AS m
    WHERE ${products.id} = m.id AND ${products.stock} + m.delta >= 0
    RETURNING ${products.id} AS id, ${products.stock} AS stock`)

/**
 * `moveStock` for a group of moves decided together (a batch of checkouts): one guarded
 * UPDATE for every product, one ledger INSERT for every move, each row's `stock_after` as
 * the moves ran in the order given. The caller decided they fit (it read the stock in this
 * transaction); a product that is unknown or would go below zero throws, so the caller's
 * transaction writes none of them.
 */
export async function moveStocks(tx: Tx, moves: (StockMove & { at: string })[]) {
  if (!moves.length) return
  const deltas = new Map<string, number>()
  for (const move of moves) deltas.set(move.productId, (deltas.get(move.productId) ?? 0) + move.delta)
  // ISO times in UTC: the latest sorts last.
  const at = moves
    .map((move) => move.at)
    .sort()
    .at(-1)!
  const rows = await applyDeltas(
    tx,
    [...deltas].map(([id, delta]) => ({ id, delta })),
    at,
  )
  if (rows.length !== deltas.size) throw new Error(`moveStocks: ${deltas.size - rows.length} of ${deltas.size} products were unknown or short`)
  // Walk forward from the stock before the group: the final stock less the group's deltas.
  const stock = new Map(rows.map((row) => [row.id, row.stock - deltas.get(row.id)!]))
  await insertMovements(
    tx,
    moves.map((move) => {
      const stockAfter = stock.get(move.productId)! + move.delta
      stock.set(move.productId, stockAfter)
      return {
        productId: move.productId,
        delta: move.delta,
        reason: move.reason,
        ref: move.ref ?? null,
        supplier: move.supplier ?? null,
        stockAfter,
        actorId: move.actorId ?? null,
        createdAt: move.at,
      }
    }),
  )
}
