import { and, asc, eq, isNull } from 'drizzle-orm'
import type { Database, Queryable, Tx } from '../../db/client'
import { isoAt, type Clock } from '../../lib/clock'
import { AppError, notFound } from '../../lib/errors'
import { totalsOf } from '../../lib/money'
import { products } from '../catalog/schema'
import { regions } from '../regions/schema'
import type { CartDto } from './model'
import { cartItems } from './schema'

/** The cart's lines with their products as they are now (checkout reads them inside its transaction). */
export function cartLines(q: Queryable, userId: string) {
  return q
    .select({
      productId: cartItems.productId,
      quantity: cartItems.quantity,
      title: products.title,
      sku: products.sku,
      price: products.price,
      stock: products.stock,
      deletedAt: products.deletedAt,
      regionId: products.regionId,
      currency: regions.currency,
      taxBps: regions.taxBps,
    })
    .from(cartItems)
    .innerJoin(products, eq(products.id, cartItems.productId))
    .innerJoin(regions, eq(regions.id, products.regionId))
    .where(eq(cartItems.userId, userId))
    .orderBy(asc(cartItems.addedAt), asc(cartItems.productId))
}
export type CartLine = Awaited<ReturnType<typeof cartLines>>[number]

/** What can still be bought of a line's product: nothing once it is deleted. */
export const availableOf = (line: Pick<CartLine, 'stock' | 'deletedAt'>) => (line.deletedAt ? 0 : line.stock)

/** Also an account eraser: a deleted customer's cart goes with them. */
export async function clearCart(tx: Tx, userId: string) {
  await tx.delete(cartItems).where(eq(cartItems.userId, userId))
}

const insufficientStock = (productId: string, requested: number, available: number) =>
  new AppError(409, 'insufficient_stock', `Only ${available} of this product in stock`, [{ product_id: productId, requested, available }])

export interface CartDeps {
  database: Database
  clock: Clock
}

export class CartService {
  constructor(private readonly deps: CartDeps) {}

  async get(userId: string): Promise<CartDto> {
    const lines = await cartLines(this.deps.database.db, userId)
    const items = lines.map((line) => ({
      product_id: line.productId,
      title: line.title,
      unit_price: line.price,
      quantity: line.quantity,
      line_total: line.price * line.quantity,
      available: availableOf(line),
    }))
    const region = lines[0]
    const totals = totalsOf(
      items.reduce((sum, item) => sum + item.line_total, 0),
      region?.taxBps ?? 0,
    )
    return { items, ...totals, currency: region?.currency ?? null, region_id: region?.regionId ?? null }
  }

  /** Adds to the line (or opens it); every line of a cart comes from one region. */
  async add(userId: string, productId: string, quantity: number) {
    await this.deps.database.write(async (tx) => {
      const product = await tx
        .select({ regionId: products.regionId, stock: products.stock })
        .from(products)
        .where(and(eq(products.id, productId), isNull(products.deletedAt)))
        .get()
      if (!product) throw notFound('Product')
      const lines = await cartLines(tx, userId)
      const cartRegion = lines[0]?.regionId
      if (cartRegion && cartRegion !== product.regionId) {
        throw new AppError(409, 'region_mismatch', 'The cart holds products of another region: check it out or empty it first', undefined, { cart_region_id: cartRegion })
      }
      const current = lines.find((line) => line.productId === productId)?.quantity ?? 0
      if (current + quantity > product.stock) throw insufficientStock(productId, current + quantity, product.stock)
      await tx
        .insert(cartItems)
        .values({ userId, productId, quantity: current + quantity, addedAt: isoAt(this.deps.clock.now()) })
        .onConflictDoUpdate({ target: [cartItems.userId, cartItems.productId], set: { quantity: current + quantity } })
    })
    return this.get(userId)
  }

  async setQuantity(userId: string, productId: string, quantity: number) {
    await this.deps.database.write(async (tx) => {
      const line = (await cartLines(tx, userId)).find((l) => l.productId === productId)
      if (!line) throw notFound('Cart item')
      if (quantity > availableOf(line)) throw insufficientStock(productId, quantity, availableOf(line))
      await tx.update(cartItems).set({ quantity }).where(and(eq(cartItems.userId, userId), eq(cartItems.productId, productId)))
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
