import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { products } from '../catalog/schema'

export type StockReason = 'adjustment' | 'purchase' | 'sale' | 'cancellation' | 'flash_sale_reserve' | 'flash_sale_return'

/** The ledger: one row per change of a product's stock; the rows of a product sum to its stock. */
export const stockMovements = sqliteTable(
  'stock_movements',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    productId: text('product_id')
      .notNull()
      .references(() => products.id),
    delta: integer('delta').notNull(),
    reason: text('reason').$type<StockReason>().notNull(),
    /** What caused it: an order, purchase or drop id, or the admin's free-text reason. */
    ref: text('ref'),
    supplier: text('supplier'),
    stockAfter: integer('stock_after').notNull(),
    actorId: text('actor_id'),
    createdAt: text('created_at').notNull(),
  },
  (t) => [index('stock_movements_product_idx').on(t.productId, t.id)],
)

export const purchases = sqliteTable('purchases', {
  id: text('id').primaryKey(),
  supplier: text('supplier').notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: text('created_at').notNull(),
})

export const purchaseItems = sqliteTable(
  'purchase_items',
  {
    purchaseId: text('purchase_id')
      .notNull()
      .references(() => purchases.id),
    /** Position in the receipt, from 0. */
    line: integer('line').notNull(),
    productId: text('product_id')
      .notNull()
      .references(() => products.id),
    quantity: integer('quantity').notNull(),
    /** Minor units of the product's currency. */
    unitCost: integer('unit_cost').notNull(),
  },
  (t) => [primaryKey({ columns: [t.purchaseId, t.line] }), index('purchase_items_product_idx').on(t.productId)],
)
