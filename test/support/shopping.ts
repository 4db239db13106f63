import { eq, sql } from 'drizzle-orm'
import type { TestShop } from './harness'
import { createProduct, createRegion } from './fixtures'
import { products, stockMovements } from '../../src/modules/catalog/schema'

export const address = { line1: 'Av. Paulista, 1000', city: 'São Paulo', state: 'SP', postal_code: '01310-100', country: 'BR' }

/** Helpers for the buying path: a customer with a filled cart, and the stock as the ledger sees it. */
export function shopping(s: TestShop) {
  let region: { id: string } | undefined
  const theRegion = async () => (region ??= await createRegion(s.database, { taxBps: 1000 }))
  const checkout = (token: string, headers: Record<string, string> = {}, body: Record<string, unknown> = { shipping_address: address }) => s.request('POST', '/v1/orders', { token, body, headers })
  return {
    async product(stock: number, price = 1000) {
      return createProduct(s.database, (await theRegion()).id, stock, { price })
    },
    async customerWithCart(lines: { id: string; quantity: number }[]) {
      const user = await s.createUser()
      for (const line of lines) {
        const res = await s.request('POST', '/v1/cart/items', { token: user.token, body: { product_id: line.id, quantity: line.quantity } })
        if (res.status !== 200) throw new Error(`add to cart failed: ${res.status} ${JSON.stringify(res.body)}`)
      }
      return user
    },
    checkout,
    /** A customer's order of one product, in `pending_payment`. */
    async placedOrder({ quantity = 1, stock = 10, price = 1000 } = {}) {
      const p = await this.product(stock, price)
      const u = await this.customerWithCart([{ id: p.id, quantity }])
      return { p, u, order: (await checkout(u.token)).body }
    },
    async stockOf(productId: string) {
      return (await s.database.db.select({ stock: products.stock }).from(products).where(eq(products.id, productId)).get())!.stock
    },
    async ledgerSum(productId: string) {
      return (await s.database.db
        .select({ sum: sql<number>`coalesce(sum(${stockMovements.delta}), 0)` })
        .from(stockMovements)
        .where(eq(stockMovements.productId, productId))
        .get())!.sum
    },
  }
}
