import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'

export const regions = sqliteTable('regions', {
  id: text('id').primaryKey(),
  title: text('title').notNull(),
  /** ISO 3166-1 alpha-2 */
  country: text('country').notNull(),
  /** ISO 4217 */
  currency: text('currency').notNull(),
  /** Minor-unit exponent of the currency: 2 for BRL/USD/SGD, 0 for VND. */
  currencyExponent: integer('currency_exponent').notNull(),
  /** Tax in basis points (1000 = 10 %). */
  taxBps: integer('tax_bps').notNull(),
  createdAt: text('created_at').notNull(),
  updatedAt: text('updated_at').notNull(),
  /** Soft delete: products (and the orders that copied them) still point here. */
  deletedAt: text('deleted_at'),
})
