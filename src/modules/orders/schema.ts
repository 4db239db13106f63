import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { users } from '../accounts/schema'
import { regions } from '../regions/schema'
import { products } from '../catalog/schema'

export const ORDER_STATUSES = ['pending_payment', 'paid', 'shipped', 'delivered', 'unpaid', 'cancelled', 'refunded'] as const
export type OrderStatus = (typeof ORDER_STATUSES)[number]
/** What a timeline entry says happened to the order's money, beside its status (which stays the order's). */
export const TIMELINE_EVENTS = ['payment_voided', 'payment_refunded'] as const
export type TimelineEvent = (typeof TIMELINE_EVENTS)[number]
export type OrderSource = 'cart' | 'flash_sale'

export const orders = sqliteTable(
  'orders',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    status: text('status').$type<OrderStatus>().notNull(),
    source: text('source').$type<OrderSource>().notNull(),
    regionId: text('region_id')
      .notNull()
      .references(() => regions.id),
    currency: text('currency').notNull(),
    /** Blanked when the customer erases their account. */
    customerName: text('customer_name').notNull(),
    /** JSON sealed with AES-256-GCM like profile addresses; null once erased. */
    shippingAddressSealed: text('shipping_address_sealed'),
    /** Minor units. */
    subtotal: integer('subtotal').notNull(),
    tax: integer('tax').notNull(),
    total: integer('total').notNull(),
    taxBps: integer('tax_bps').notNull(),
    pricesIncludeTax: integer('prices_include_tax', { mode: 'boolean' }).notNull(),
    paymentDueAt: text('payment_due_at').notNull(),
    paidAt: text('paid_at'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [index('orders_user_idx').on(t.userId, t.id), index('orders_status_idx').on(t.status, t.id)],
)

/** Prices are snapshotted: what the product costs later never changes an order. */
export const orderItems = sqliteTable(
  'order_items',
  {
    orderId: text('order_id')
      .notNull()
      .references(() => orders.id),
    productId: text('product_id')
      .notNull()
      .references(() => products.id),
    title: text('title').notNull(),
    sku: text('sku').notNull(),
    unitPrice: integer('unit_price').notNull(),
    quantity: integer('quantity').notNull(),
    lineTotal: integer('line_total').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orderId, t.productId] })],
)

/**
 * One row per status an order entered, and one per money event (`event`, `payment_id`; then
 * `status` is the order's status at the time). The row id is the SSE event id (Last-Event-ID
 * replays from it).
 */
export const orderTimeline = sqliteTable(
  'order_timeline',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    orderId: text('order_id')
      .notNull()
      .references(() => orders.id),
    status: text('status').$type<OrderStatus>().notNull(),
    event: text('event').$type<TimelineEvent>(),
    paymentId: text('payment_id'),
    at: text('at').notNull(),
  },
  (t) => [index('order_timeline_order_idx').on(t.orderId, t.id)],
)
