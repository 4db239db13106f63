import { and, asc, eq, isNull, sql } from 'drizzle-orm'
import { prepared, type Database, type Queryable, type Tx } from '../../db/client'
import { writeBatches, type BatchOutcome } from '../../db/write-batches'
import type { Clock } from '../../lib/clock'
import { AppError, notFound } from '../../lib/errors'
import { amountJson, lineTotal, sumOf, totalsOf } from '../../lib/money'
import { productTerms } from '../catalog'
import { MAX_CART_LINES, type CartDto } from './model'
import { cartItems } from './schema'

/** What a cart line shows of its product, as it is now. */
const productFields = {
  title: productTerms.title,
  sku: productTerms.sku,
  price: productTerms.price,
  stock: productTerms.stock,
  deletedAt: productTerms.deletedAt,
  regionId: productTerms.regionId,
  currency: productTerms.currency,
  taxBps: productTerms.taxBps,
}

const lineFields = { productId: cartItems.productId, quantity: cartItems.quantity, addedAt: cartItems.addedAt, ...productFields }
const linesOf = prepared((q) =>
  q
    .select(lineFields)
    .from(cartItems)
    .innerJoin(productTerms, eq(productTerms.productId, cartItems.productId))
    .where(eq(cartItems.userId, sql.placeholder('userId')))
    .orderBy(asc(cartItems.addedAt), asc(cartItems.productId))
    .prepare(),
)

/** The live products of a JSON array of ids (a batch of adds). */
const liveProducts = prepared((q) =>
  q
    .select({ productId: productTerms.productId, ...productFields })
    .from(productTerms)
    .where(and(sql`${productTerms.productId} IN (SELECT value FROM json_each(${sql.placeholder('ids')}))`, isNull(productTerms.deletedAt)))
    .prepare(),
)

/** Lines written (or their quantity written over) from one JSON array of `{ userId, productId, quantity, addedAt }`; `WHERE true` lets SQLite parse the upsert after a SELECT. */
const upsertLines = prepared((q) =>
  q
    .insert(cartItems)
    .select(sql`SELECT value ->> '$.userId', value ->> '$.productId', value ->> '$.quantity', value ->> '$.addedAt' FROM json_each(${sql.placeholder('lines')}) WHERE true`)
    .onConflictDoUpdate({ target: [cartItems.userId, cartItems.productId], set: { quantity: sql`excluded.quantity` } })
    .prepare(),
)

/** Several customers' lines, given as one JSON array of ids, each cart in `linesOf`'s order. */
const linesOfUsers = prepared((q) =>
  q
    .select({ userId: cartItems.userId, ...lineFields })
    .from(cartItems)
    .innerJoin(productTerms, eq(productTerms.productId, cartItems.productId))
    .where(sql`${cartItems.userId} IN (SELECT value FROM json_each(${sql.placeholder('userIds')}))`)
    .orderBy(asc(cartItems.userId), asc(cartItems.addedAt), asc(cartItems.productId))
    .prepare(),
)

/** The cart's lines with their products as they are now (checkout reads them inside its transaction). */
export const cartLines = (q: Queryable, userId: string) => linesOf(q).all({ userId })
export type CartLine = Awaited<ReturnType<typeof cartLines>>[number]

/** `cartLines` of several customers in one statement (a batch of checkouts): each customer's lines, none for an empty cart. */
export async function cartsOf(q: Queryable, userIds: string[]): Promise<Map<string, CartLine[]>> {
  const carts = new Map(userIds.map((userId) => [userId, [] as CartLine[]]))
  for (const line of await linesOfUsers(q).all({ userIds: JSON.stringify(userIds) })) carts.get(line.userId)!.push(line)
  return carts
}

/** What can still be bought of a line's product: nothing once it is deleted. */
export const availableOf = (line: Pick<CartLine, 'stock' | 'deletedAt'>) => (line.deletedAt ? 0 : line.stock)

const deleteLines = prepared((q) =>
  q
    .delete(cartItems)
    .where(eq(cartItems.userId, sql.placeholder('userId')))
    .prepare(),
)

/** Also an account eraser: a deleted customer's cart goes with them. */
export async function clearCart(tx: Tx, userId: string) {
  await deleteLines(tx).run({ userId })
}

/** Several customers' carts in one statement (a batch of checkouts). */
export async function clearCarts(tx: Tx, userIds: string[]) {
  if (userIds.length) await tx.run(sql`DELETE FROM ${cartItems} WHERE ${cartItems.userId} IN (SELECT value FROM json_each(${JSON.stringify(userIds)}))`)
}

const binary = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
/** The order `cartLines` reads them in (SQLite compares text as bytes). */
const inReadOrder = (a: CartLine, b: CartLine) => binary(a.addedAt, b.addedAt) || binary(a.productId, b.productId)

/** The cart as the API shows it: live prices, the region's tax on the subtotal. */
function cartOf(lines: CartLine[]): CartDto {
  const lineTotals = lines.map((line) => lineTotal(line.price, line.quantity))
  const items = lines.map((line, i) => ({
    product_id: line.productId,
    title: line.title,
    unit_price: line.price,
    quantity: line.quantity,
    line_total: amountJson(lineTotals[i]!),
    available: availableOf(line),
  }))
  const region = lines[0]
  const { subtotal, tax, total } = totalsOf(sumOf(lineTotals), region?.taxBps ?? 0)
  return { items, subtotal: amountJson(subtotal), tax: amountJson(tax), total: amountJson(total), currency: region?.currency ?? null, region_id: region?.regionId ?? null }
}

const insufficientStock = (productId: string, requested: number, available: number) =>
  new AppError(409, 'insufficient_stock', `Only ${available} of this product in stock`, { errors: [{ product_id: productId, requested, available }] })

export interface CartDeps {
  database: Database
  clock: Clock
}

interface CartAdd {
  userId: string
  productId: string
  quantity: number
  addedAt: string
}

export class CartService {
  private readonly adds: (add: CartAdd) => Promise<CartDto>

  constructor(private readonly deps: CartDeps) {
    this.adds = writeBatches(
      deps.database.write,
      (tx, adds) => this.addGroup(tx, adds),
      (add) => add.userId,
    )
  }

  async get(userId: string): Promise<CartDto> {
    return cartOf(await cartLines(this.deps.database.db, userId))
  }

  /**
   * Adds to the line (or opens it); every line of a cart comes from one region. The answer is
   * the cart the transaction read with this change applied, not a second read. Adds queued
   * while the writer is busy are written together (`addGroup`); one per customer in a batch.
   */
  add(userId: string, productId: string, quantity: number): Promise<CartDto> {
    return this.adds({ userId, productId, quantity, addedAt: this.deps.clock.iso() })
  }

  /** A batch of adds in one write: one read of their products, one of their carts, one upsert; each add answered (or refused) alone. */
  private async addGroup(tx: Tx, adds: CartAdd[]): Promise<BatchOutcome<CartDto>[]> {
    const products = new Map((await liveProducts(tx).all({ ids: JSON.stringify(adds.map((add) => add.productId)) })).map((p) => [p.productId, p]))
    const carts = await cartsOf(
      tx,
      adds.map((add) => add.userId),
    )
    const written: (CartAdd & { quantity: number })[] = []
    const outcomes = adds.map((add): BatchOutcome<CartDto> => {
      try {
        const product = products.get(add.productId)
        if (!product) throw notFound('Product')
        const lines = carts.get(add.userId)!
        const cartRegion = lines[0]?.regionId
        if (cartRegion && cartRegion !== product.regionId) {
          throw new AppError(409, 'region_mismatch', 'The cart holds products of another region: check it out or empty it first', { extra: { cart_region_id: cartRegion } })
        }
        const line = lines.find((l) => l.productId === add.productId)
        if (!line && lines.length >= MAX_CART_LINES) throw new AppError(422, 'order_too_large', `A cart holds at most ${MAX_CART_LINES} lines`, { extra: { max_lines: MAX_CART_LINES } })
        const total = (line?.quantity ?? 0) + add.quantity
        if (total > product.stock) throw insufficientStock(add.productId, total, product.stock)
        written.push({ ...add, quantity: total })
        if (line) line.quantity = total
        else lines.push({ ...product, quantity: total, addedAt: add.addedAt })
        return { value: cartOf(lines.sort(inReadOrder)) }
      } catch (error) {
        if (!(error instanceof AppError)) throw error
        return { error }
      }
    })
    if (written.length) await upsertLines(tx).run({ lines: JSON.stringify(written) })
    return outcomes
  }

  async setQuantity(userId: string, productId: string, quantity: number) {
    await this.deps.database.write(async (tx) => {
      const line = (await cartLines(tx, userId)).find((l) => l.productId === productId)
      if (!line) throw notFound('Cart item')
      if (quantity > availableOf(line)) throw insufficientStock(productId, quantity, availableOf(line))
      await tx
        .update(cartItems)
        .set({ quantity })
        .where(and(eq(cartItems.userId, userId), eq(cartItems.productId, productId)))
    })
    return this.get(userId)
  }

  async remove(userId: string, productId: string) {
    const removed = await this.deps.database.write((tx) =>
      tx
        .delete(cartItems)
        .where(and(eq(cartItems.userId, userId), eq(cartItems.productId, productId)))
        .returning({ productId: cartItems.productId }),
    )
    if (!removed.length) throw notFound('Cart item')
    return this.get(userId)
  }

  async clear(userId: string) {
    await this.deps.database.write((tx) => clearCart(tx, userId))
  }
}
