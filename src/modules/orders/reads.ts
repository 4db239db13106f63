import { sql } from 'drizzle-orm'
import { QueryBuilder } from 'drizzle-orm/sqlite-core'
import { orders } from './schema'

/**
 * What other modules read of an order (payments: who owes what and by when; the flash sale:
 * whether a winner still may pay; whether it has a shipping address to pay for), as a subquery they join in their own statements: a
 * webhook or a drop's settlement stays one query. SQLite flattens it: the plan is the plain
 * join's. Only orders' own code changes an order (`OrderLifecycle`).
 */
export const orderTerms = new QueryBuilder()
  .select({
    id: orders.id,
    userId: orders.userId,
    status: orders.status,
    total: orders.total,
    currency: orders.currency,
    paymentDueAt: orders.paymentDueAt,
    hasShippingAddress: sql<boolean>`${orders.shippingAddressSealed} IS NOT NULL`.mapWith(Boolean).as('has_shipping_address'),
  })
  .from(orders)
  .as('order_terms')
