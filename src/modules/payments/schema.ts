import { sql } from 'drizzle-orm'
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import { orders } from '../orders/schema'
import type { ChargeStatus } from './gateway'

export type PaymentMethod = 'card' | 'pix'
export const PAYMENT_STATUSES = ['pending', 'paid', 'failed', 'expired', 'cancelled', 'refunded'] as const
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number]

/** A payment attempt on an order. Never holds a card number or CVC: brand and last four only. */
export const payments = sqliteTable(
  'payments',
  {
    id: text('id').primaryKey(),
    orderId: text('order_id')
      .notNull()
      .references(() => orders.id),
    method: text('method').$type<PaymentMethod>().notNull(),
    status: text('status').$type<PaymentStatus>().notNull(),
    /** Minor units: the order total when the payment opened. */
    amount: integer('amount').notNull(),
    currency: text('currency').notNull(),
    /** The gateway's charge id; null until the gateway answered. */
    gatewayRef: text('gateway_ref'),
    cardBrand: text('card_brand'),
    cardLast4: text('card_last4'),
    pixCode: text('pix_code'),
    pixExpiresAt: text('pix_expires_at'),
    /** The `Idempotency-Key` the payment was opened under (its user is the order's): released if the request never finished. */
    idempotencyKey: text('idempotency_key'),
    /** Set when the payment closed with its order, until the gateway has answered its void (money may still move until then). */
    voidRequestedAt: text('void_requested_at'),
    /** Set when its charge must go back (a refund, or a capture the order could not take); the status becomes `refunded` once the gateway confirms. */
    refundRequestedAt: text('refund_requested_at'),
    refundReason: text('refund_reason'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [index('payments_order_idx').on(t.orderId, t.id), uniqueIndex('payments_gateway_ref_unique').on(t.gatewayRef)],
)

/** Gateway events already applied, by the gateway's event id: a replayed webhook changes nothing. */
export const webhookEvents = sqliteTable('webhook_events', {
  id: text('id').primaryKey(),
  type: text('type').notNull(),
  paymentId: text('payment_id'),
  /** What applying it did: `applied`, `duplicate`, `refunding` (a capture the order could not take), `unknown_payment`. */
  outcome: text('outcome').notNull(),
  receivedAt: text('received_at').notNull(),
})

/**
 * The fake gateway's own books, standing in for a provider's database: its charges outlive a
 * restart of the server (the fake runs in production too). No foreign keys: a gateway knows
 * nothing of our tables.
 */
export const fakeGatewayCharges = sqliteTable(
  'fake_gateway_charges',
  {
    ref: text('ref').primaryKey(),
    paymentId: text('payment_id').notNull(),
    amount: integer('amount').notNull(),
    currency: text('currency').notNull(),
    status: text('status').$type<ChargeStatus>().notNull(),
    /** A Pix code stops being payable then (null for cards). */
    expiresAt: text('expires_at'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [index('fake_gateway_charges_payment_idx').on(t.paymentId), index('fake_gateway_charges_updated_idx').on(t.updatedAt)],
)

/** The webhooks the fake gateway owes the shop, each sent until acknowledged (a delivery job per event). */
export const fakeGatewayEvents = sqliteTable(
  'fake_gateway_events',
  {
    id: text('id').primaryKey(),
    chargeRef: text('charge_ref').notNull(),
    /** The exact JSON body sent (and signed). */
    body: text('body').notNull(),
    createdAt: text('created_at').notNull(),
    deliveredAt: text('delivered_at'),
  },
  (t) => [index('fake_gateway_events_undelivered_idx').on(t.createdAt).where(sql`${t.deliveredAt} is null`)],
)
