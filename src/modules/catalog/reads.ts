import { and, eq, isNull } from 'drizzle-orm'
import { QueryBuilder } from 'drizzle-orm/sqlite-core'
import type { Tx } from '../../db/client'
import { regionTerms, type HasProducts } from '../regions'
import { products } from './schema'

/**
 * What other modules read of a product (cart lines, checkout, flash-sale terms, purchases):
 * title, sku, price, stock and region with its currency and tax, as a subquery they join in
 * their own statements, so a cart or an allocation batch stays one query. SQLite flattens
 * it: the plan is the plain join's. Deleted products are included (`deletedAt` set): a cart
 * line still shows one, and only live ones may be sold.
 */
export const productTerms = new QueryBuilder()
  .select({
    productId: products.id,
    title: products.title,
    sku: products.sku,
    price: products.price,
    stock: products.stock,
    deletedAt: products.deletedAt,
    regionId: products.regionId,
    currency: regionTerms.currency,
    taxBps: regionTerms.taxBps,
  })
  .from(products)
  .innerJoin(regionTerms, eq(regionTerms.id, products.regionId))
  .as('product_terms')

/** Regions asks this before it changes a currency or deletes a region. */
export const regionHasProducts: HasProducts = async (tx: Tx, regionId, { includeDeleted }) => {
  const row = await tx
    .select({ id: products.id })
    .from(products)
    .where(and(eq(products.regionId, regionId), includeDeleted ? undefined : isNull(products.deletedAt)))
    .limit(1)
    .get()
  return row !== undefined
}
