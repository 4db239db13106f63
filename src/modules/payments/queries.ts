import { and, eq, inArray, isNull, sql } from 'drizzle-orm'
import { prepared } from '../../db/client'
import { rowInserter } from '../../db/row-inserter'
import { orderTerms } from '../orders'
import type { PaymentDto } from './model'
import { payments, webhookEvents } from './schema'

// The payment statements, prepared once: they run on every payment and webhook.
export type PaymentRow = typeof payments.$inferSelect

export const ph = sql.placeholder
/** What paying an order needs of it, read in the payment's own transaction. */
export const orderToPay = prepared((q) =>
  q
    .select({
      id: orderTerms.id,
      userId: orderTerms.userId,
      status: orderTerms.status,
      total: orderTerms.total,
      currency: orderTerms.currency,
      paymentDueAt: orderTerms.paymentDueAt,
      hasShippingAddress: orderTerms.hasShippingAddress,
    })
    .from(orderTerms)
    .where(eq(orderTerms.id, ph('orderId')))
    .prepare(),
)
export type OrderToPay = NonNullable<Awaited<ReturnType<ReturnType<typeof orderToPay>['get']>>>
export const livePaymentOf = prepared((q) =>
  q
    .select({ id: payments.id })
    .from(payments)
    .where(and(eq(payments.orderId, ph('orderId')), inArray(payments.status, ['pending', 'paid'])))
    .prepare(),
)
export const insertPayments = rowInserter(payments, ['id', 'orderId', 'method', 'status', 'amount', 'currency', 'cardBrand', 'cardLast4', 'idempotencyKey', 'createdAt', 'updatedAt'])
/** The charge's ref, kept whatever became of the payment meanwhile (a closed payment's charge is still voided or refunded by it). */
export const recordCharge = prepared((q) =>
  q
    .update(payments)
    .set({ gatewayRef: sql`${ph('gatewayRef')}`, pixCode: sql`${ph('pixCode')}`, pixExpiresAt: sql`${ph('pixExpiresAt')}`, updatedAt: sql`${ph('at')}` })
    .where(eq(payments.id, ph('id')))
    .returning()
    .prepare(),
)
/** A payment learns its charge's ref from the gateway (a webhook, the reconciler) when its own request died before recording it. */
export const adoptCharge = prepared((q) =>
  q
    .update(payments)
    .set({ gatewayRef: sql`${ph('gatewayRef')}` })
    .where(and(eq(payments.id, ph('id')), isNull(payments.gatewayRef)))
    .prepare(),
)
/** A pending payment ends (`failed`, `expired`); one already settled keeps its status. */
export const endPending = prepared((q) =>
  q
    .update(payments)
    .set({ status: sql`${ph('status')}`, updatedAt: sql`${ph('at')}` })
    .where(and(eq(payments.id, ph('id')), eq(payments.status, 'pending')))
    .prepare(),
)
/** Only a pending payment becomes paid: a closed one's capture is refunded instead. */
export const markPaid = prepared((q) =>
  q
    .update(payments)
    .set({ status: 'paid', updatedAt: sql`${ph('at')}` })
    .where(and(eq(payments.id, ph('id')), eq(payments.status, 'pending')))
    .returning({ id: payments.id })
    .prepare(),
)
export const markRefunded = prepared((q) =>
  q
    .update(payments)
    .set({ status: 'refunded', updatedAt: sql`${ph('at')}` })
    .where(eq(payments.id, ph('id')))
    .prepare(),
)
export const requestRefundOf = prepared((q) =>
  q
    .update(payments)
    .set({ refundRequestedAt: sql`coalesce(${payments.refundRequestedAt}, ${ph('at')})`, refundReason: sql`coalesce(${payments.refundReason}, ${ph('reason')})`, updatedAt: sql`${ph('at')}` })
    .where(eq(payments.id, ph('id')))
    .prepare(),
)
/** A gateway event, recorded once by its id: `applied` unless applying it says otherwise. */
export const recordEvent = prepared((q) =>
  q
    .insert(webhookEvents)
    .values({ id: ph('id'), type: ph('type'), paymentId: ph('paymentId'), outcome: 'applied', receivedAt: ph('at') })
    .onConflictDoNothing()
    .returning({ id: webhookEvents.id })
    .prepare(),
)
export const setEventOutcome = prepared((q) =>
  q
    .update(webhookEvents)
    .set({ outcome: sql`${ph('outcome')}` })
    .where(eq(webhookEvents.id, ph('id')))
    .prepare(),
)
export const paymentWithOrder = prepared((q) =>
  q
    .select({
      id: payments.id,
      status: payments.status,
      gatewayRef: payments.gatewayRef,
      amount: payments.amount,
      currency: payments.currency,
      orderId: orderTerms.id,
      orderTotal: orderTerms.total,
      orderStatus: orderTerms.status,
    })
    .from(payments)
    .innerJoin(orderTerms, eq(orderTerms.id, payments.orderId))
    .where(eq(payments.id, ph('id')))
    .prepare(),
)

export const toDto = (row: PaymentRow): PaymentDto => ({
  id: row.id,
  order_id: row.orderId,
  method: row.method,
  status: row.status,
  amount: row.amount,
  currency: row.currency,
  created_at: row.createdAt,
  ...(row.cardLast4 ? { card: { brand: row.cardBrand ?? 'unknown', last4: row.cardLast4 } } : {}),
  ...(row.pixCode ? { pix: { code: row.pixCode, expires_at: row.pixExpiresAt! } } : {}),
})
