import { sql } from 'drizzle-orm'
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import { regions } from '../regions/schema'

export const categories = sqliteTable(
  'categories',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    createdAt: text('created_at').notNull(),
  },
  // "Books" and "books" are one category.
  (t) => [uniqueIndex('categories_name_unique').on(sql`lower(${t.name})`)],
)

export const products = sqliteTable(
  'products',
  {
    id: text('id').primaryKey(),
    regionId: text('region_id')
      .notNull()
      .references(() => regions.id),
    /** A key of the product-type registry (`book`, `generic`, …). */
    type: text('type').notNull(),
    sku: text('sku').notNull(),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    /** An image somewhere else (https), set by PATCH; `imageKey` wins when both are set. */
    imageUrl: text('image_url'),
    /** The image this server stores (PUT …/image): a file-store key, served at /v1/images/<key>. */
    imageKey: text('image_key'),
    /** Minor units of the region's currency. */
    price: integer('price').notNull(),
    /** Changed only through moveStock (ledger.ts), which writes the ledger row with it. */
    stock: integer('stock').notNull().default(0),
    attributes: text('attributes', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    /** Words of the attributes `q` finds the product by (a book's author and ISBNs), from its type; indexed by products_fts. */
    searchTerms: text('search_terms').notNull().default(''),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
    deletedAt: text('deleted_at'),
    /**
     * The product's public JSON (`Product`) less what changes without an admin's edit or is
     * configuration (image_url, stock, updated_at), in the three pieces between them: kept by
     * triggers (drizzle/catalog/0004_product_json.sql), never written by code; product-json.ts
     * joins them with the live values.
     */
    jsonHead: text('json_head').notNull().default(''),
    jsonMiddle: text('json_middle').notNull().default(''),
    jsonTail: text('json_tail').notNull().default(''),
  },
  (t) => [
    uniqueIndex('products_region_sku_unique').on(t.regionId, t.sku).where(sql`deleted_at IS NULL`),
    index('products_region_idx').on(t.regionId, t.id),
    check('products_stock_not_negative', sql`${t.stock} >= 0`),
    check('products_price_not_negative', sql`${t.price} >= 0`),
  ],
)

export const productCategories = sqliteTable(
  'product_categories',
  {
    productId: text('product_id')
      .notNull()
      .references(() => products.id),
    categoryId: text('category_id')
      .notNull()
      .references(() => categories.id),
  },
  (t) => [primaryKey({ columns: [t.productId, t.categoryId] }), index('product_categories_category_idx').on(t.categoryId)],
)

export type StockReason = 'adjustment' | 'purchase' | 'sale' | 'cancellation' | 'refund' | 'flash_sale_reserve' | 'flash_sale_return'

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
