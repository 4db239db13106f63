import type { Database } from '../../src/db/client'
import { newId } from '../../src/lib/ids'
import { regions } from '../../src/modules/regions/schema'
import { products } from '../../src/modules/catalog/schema'
import { moveStock } from '../../src/modules/catalog'

/** Catalog rows written straight to the database, for tests of other modules. */
export async function createRegion(database: Database, values: Partial<typeof regions.$inferInsert> = {}) {
  const now = new Date().toISOString()
  const row = { id: newId(), title: 'Brazil', country: 'BR', currency: 'BRL', currencyExponent: 2, taxBps: 1000, createdAt: now, updatedAt: now, ...values }
  await database.write((tx) => tx.insert(regions).values(row))
  return row
}

/** A generic product whose initial stock comes in through the ledger, like any other stock. */
export async function createProduct(database: Database, regionId: string, stock = 0, values: Partial<typeof products.$inferInsert> = {}) {
  const now = new Date().toISOString()
  const id = newId()
  const row = { id, regionId, type: 'generic', sku: `SKU-${id.slice(-12)}`, title: 'Thing', price: 1000, attributes: {}, createdAt: now, updatedAt: now, ...values }
  await database.write(async (tx) => {
    await tx.insert(products).values({ ...row, stock: 0 })
    if (stock > 0) await moveStock(tx, { productId: id, delta: stock, reason: 'purchase', ref: 'fixture' }, now)
  })
  return { ...row, stock }
}
