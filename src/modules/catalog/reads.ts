import { and, eq, isNull } from 'drizzle-orm'
import type { Tx } from '../../db/client'
import type { HasProducts } from '../regions/service'
import { products } from './schema'

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
