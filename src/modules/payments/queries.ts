import { and, eq, inArray, isNull, sql } from 'drizzle-orm'
import { prepared, type Tx } from '../../db/client'
import { rowInserter } from '../../db/row-inserter'
import { orderTerms } from '../orders'
import type { PaymentDto } from './model'
import { payments, webhookEvents } from './schema'

// The payment statements, prepared once: they run on every payment and webhook.
export type PaymentRow = typeof payments.$inferSelect

export const ph = sql.placeholder
/** What paying these orders (a JSON array of ids) needs of them, read in the payments' own transaction. */
export const ordersToPay = prepared((q) =>
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
    .where(sql`${orderTerms.id} IN (SELECT value FROM json_each(${ph('orderIds')}))`)
    .prepare(),
)
export type OrderToPay = Awaited<ReturnType<ReturnType<typeof ordersToPay>['all']>>[number]
/** The pending or paid payments of these orders (a JSON array of ids). */
export const livePaymentsOf = prepared((q) =>
  q
    .select({ id: payments.id, orderId: payments.orderId })
    .from(payments)
    .where(and(sql`${payments.orderId} IN (SELECT value FROM json_each(${ph('orderIds')}))`, inArray(payments.status, ['pending', 'paid'])))
    .prepare(),
)
export const insertPayments = rowInserter(payments, ['id', 'orderId', 'method', 'status', 'amount', 'currency', 'cardBrand', 'cardLast4', 'idempotencyKey', 'createdAt', 'updatedAt'])
/**
 * Charges' refs, kept whatever became of their payments meanwhile (a closed payment's charge
 * is still voided or refunded by it), from a JSON array of `{ id, ref, pixCode, pixExpiresAt,
 * at, declined }`. A declined charge ends its payment if still pending; a fast webhook may
 * have settled it already, and then it keeps its status.
 */
export const recordCharges = prepared((q) =>
  q
    .update(payments)
    .set({
      gatewayRef: sql`c.charge_ref`,
      pixCode: sql`c.charge_pix_code`,
      pixExpiresAt: sql`c.charge_pix_expires_at`,
      updatedAt: sql`c.charge_at`,
      status: sql`CASE WHEN c.charge_declined AND ${payments.status} = 'pending' THEN 'failed' ELSE ${payments.status} END`,
    })
    // Named apart from the payments' columns: RETURNING names them unqualified.
    .from(
      sql`(SELECT value ->> '$.id' AS charge_payment_id, value ->> '$.ref' AS charge_ref, value ->> '$.pixCode' AS charge_pix_code, value ->> '$.pixExpiresAt' AS charge_pix_expires_at, value ->> '$.at' AS charge_at, value ->> '$.declined' AS charge_declined FROM json_each(${ph('charges')})) AS c`,
    )
    .where(sql`${payments.id} = c.charge_payment_id`)
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
// The webhook's statements, each for a group of events (a batch of webhooks, one per payment).
/** Gateway events, each recorded once by its id (`applied` unless applying it says otherwise): the ids that were new. */
export const recordEvents = (tx: Tx, events: { id: string; type: string; paymentId: string; at: string }[]) =>
  tx.all<{ id: string }>(sql`
    INSERT INTO ${webhookEvents} (id, type, payment_id, outcome, received_at)
    SELECT value ->> '$.id', value ->> '$.type', value ->> '$.paymentId', 'applied', value ->> '$.at' FROM json_each(${JSON.stringify(events)}) WHERE true
    ON CONFLICT DO NOTHING
    RETURNING id`)
export const setEventOutcomes = (tx: Tx, outcomes: { id: string; outcome: string }[]) =>
  tx.run(sql`
    UPDATE ${webhookEvents} SET outcome = m.outcome
    FROM (SELECT value ->> '$.id' AS id, value ->> '$.outcome' AS outcome FROM json_each(${JSON.stringify(outcomes)})) AS m
    WHERE ${webhookEvents.id} = m.id`)
export const paymentsWithOrders = prepared((q) =>
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
    .where(sql`${payments.id} IN (SELECT value FROM json_each(${ph('ids')}))`)
    .prepare(),
)
export type PaymentWithOrder = Awaited<ReturnType<ReturnType<typeof paymentsWithOrders>['all']>>[number]
/**
 * Captures the group's orders take: only a pending payment becomes paid (a closed one's
 * capture is refunded instead), learning its charge's ref if its own request died before
 * recording it. The payments that became paid.
 */
export const markPaidAll = (tx: Tx, captures: { id: string; chargeRef: string; at: string }[]) =>
  tx.all<{ id: string }>(sql`
    UPDATE ${payments} SET status = 'paid', gateway_ref = coalesce(gateway_ref, m.charge_ref), updated_at = m.at
    FROM (SELECT value ->> '$.id' AS id, value ->> '$.chargeRef' AS charge_ref, value ->> '$.at' AS at FROM json_each(${JSON.stringify(captures)})) AS m
    WHERE ${payments.id} = m.id AND ${payments.status} = 'pending'
    RETURNING ${payments.id} AS id`)

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
