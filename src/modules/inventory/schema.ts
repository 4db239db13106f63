import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { products } from '../catalog/schema'

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
