import { and, eq } from 'drizzle-orm'
import { orderTerms } from '../orders'
import { payments } from './schema'
import type { PaymentsDeps } from './service'
import type { Settlement } from './settlement'

/** A payment opened after the check looked: the check must look again. */
class OpenedMeanwhile extends Error {}

/**
 * The payment-check job: an order still awaiting payment becomes `unpaid` (its units are
 * released, its pending payments `expired`). Every charge of a pending payment is voided at
 * the gateway first, so none can complete afterwards; one that already completed means its
 * webhook is on the way, so the job fails and is retried later instead.
 *
 * The race with a payment being made is decided here: a payment whose charge may be being
 * created (no ref yet, within the in-flight window) makes the check wait and retry, and so
 * does a payment opened after it looked (checked again in the transaction that expires the
 * order). So a payment is never expired underneath a charge, and a charge that does complete
 * finds its order still awaiting payment. A charge the gateway does not know (lost, purged)
 * can never complete: it expires with the order rather than hold it forever.
 */
export async function checkPayment(deps: PaymentsDeps, settlement: Settlement, orderId: string) {
  const { database, gateway, lifecycle, clock, logger } = deps
  const order = await database.db.select({ status: orderTerms.status }).from(orderTerms).where(eq(orderTerms.id, orderId)).get()
  if (order?.status !== 'pending_payment') return
  const open = await database.db
    .select()
    .from(payments)
    .where(and(eq(payments.orderId, orderId), eq(payments.status, 'pending')))
  for (const payment of open) {
    for (const ref of await settlement.chargesOf(payment)) {
      const status = await gateway.cancelCharge(ref)
      if (status === 'paid') throw new Error(`Payment ${payment.id} is paid at the gateway; waiting for its webhook`)
      if (status === null) logger.warn('charge unknown to the gateway: its payment expires', { payment_id: payment.id, order_id: orderId })
    }
  }
  const checked = new Set(open.map((payment) => payment.id))
  const at = clock.iso()
  await lifecycle.write(async (tx, transition) => {
    const current = await tx.select({ status: orderTerms.status }).from(orderTerms).where(eq(orderTerms.id, orderId)).get()
    if (current?.status !== 'pending_payment') return
    const stillOpen = await tx
      .select({ id: payments.id })
      .from(payments)
      .where(and(eq(payments.orderId, orderId), eq(payments.status, 'pending')))
    if (stillOpen.some(({ id }) => !checked.has(id))) throw new OpenedMeanwhile(`A payment of order ${orderId} opened while the check ran; checked again`)
    // The status hook expires the pending payments with the order (their charges are voided already).
    await transition(orderId, 'unpaid', at)
  })
}
