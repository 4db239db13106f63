import { sql } from 'drizzle-orm'
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import { orders } from '../orders/schema'
import type { ChargeStatus } from './gateway'

export type PaymentMethod = 'card' | 'pix'
export type PaymentStatus = 'pending' | 'paid' | 'failed' | 'expired'

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
  /** What applying it did: `applied`, `amount_mismatch`, `unknown_payment`, `late` (the order had already left pending_payment). */
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
    /** The webhook body owed to the shop for this charge's outcome; null once acknowledged (or when none is owed). */
    undeliveredEvent: text('undelivered_event'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [index('fake_gateway_charges_undelivered_idx').on(t.ref).where(sql`${t.undeliveredEvent} is not null`)],
)
