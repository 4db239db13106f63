import { and, eq, isNotNull } from 'drizzle-orm'
import { orderTerms } from '../orders'
import { payments } from './schema'
import type { PaymentsDeps } from './service'

/**
 * The payment-check job: an order still awaiting payment becomes `unpaid` (its units are
 * released) and its pending payments `expired`. Pending charges are cancelled at the
 * gateway first, so none can complete afterwards; one that already completed means its
 * webhook is on the way, so the job fails and is retried later instead. A charge the
 * gateway does not know (lost, purged) can never complete: it expires with the order
 * rather than hold it forever.
 */
export async function checkPayment(deps: PaymentsDeps, orderId: string) {
  const { database, gateway, lifecycle, clock, logger } = deps
  const order = await database.db.select({ status: orderTerms.status }).from(orderTerms).where(eq(orderTerms.id, orderId)).get()
  if (order?.status !== 'pending_payment') return
  const pending = await database.db
    .select({ id: payments.id, ref: payments.gatewayRef })
    .from(payments)
    .where(and(eq(payments.orderId, orderId), eq(payments.status, 'pending'), isNotNull(payments.gatewayRef)))
  for (const payment of pending) {
    await gateway.cancelCharge(payment.ref!)
    const status = await gateway.fetchStatus(payment.ref!)
    if (status === 'paid') throw new Error(`Payment ${payment.id} is paid at the gateway; waiting for its webhook`)
    if (status === null) logger.warn('charge unknown to the gateway: its payment expires', { payment_id: payment.id, order_id: orderId })
  }
  const at = clock.iso()
  await lifecycle.write(async (tx, transition) => {
    const current = await tx.select({ status: orderTerms.status }).from(orderTerms).where(eq(orderTerms.id, orderId)).get()
    const paid = await tx.select({ id: payments.id }).from(payments).where(and(eq(payments.orderId, orderId), eq(payments.status, 'paid'))).get()
    if (current?.status !== 'pending_payment' || paid) return
    await tx.update(payments).set({ status: 'expired', updatedAt: at }).where(and(eq(payments.orderId, orderId), eq(payments.status, 'pending')))
    await transition(orderId, 'unpaid', at)
  })
}
