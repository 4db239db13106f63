import { and, eq } from 'drizzle-orm'
import type { Tx } from '../../db/client'
import { scheduleJobs } from '../jobs'
import type { OrderChange, OrderMoves } from '../orders'
import { requestRefundOf, type PaymentRow } from './queries'
import { payments } from './schema'
import type { PaymentsDeps } from './service'

/** Voids the charge of a payment closed with its order, at the gateway, after the commit. */
export const VOID_JOB = 'payments.void'
/** Gives a captured charge back at the gateway (a refund, or a capture its order could not take). */
export const REFUND_JOB = 'payments.refund'
const voidKey = (paymentId: string) => `void:${paymentId}`
const refundKey = (chargeRef: string) => `refund:${chargeRef}`

/** A payment whose charge may be being created right now: nothing about it can be decided yet. */
export class ChargeInFlight extends Error {}

export interface RefundRequest {
  orderId: string
  /** The payment whose own charge goes back (it ends `refunded`); absent for a charge that is not its payment's. */
  paymentId?: string
  chargeRef: string
  reason: string
  at: string
}

/**
 * Where payments meet the order's lifecycle, and the two durable jobs that move money back:
 * every decision is taken in a transaction together with the job that carries it out at the
 * gateway, so a crash between the two leaves the job to do it.
 */
export class Settlement {
  constructor(private readonly deps: PaymentsDeps) {}

  /** The orders' status hook: leaving pending_payment closes open payments; a refund asks for the paid payment's money back. */
  readonly onOrderStatus = async (tx: Tx, change: OrderChange, moves: OrderMoves) => {
    if (change.to === 'unpaid' || change.to === 'cancelled') await this.closeOpen(tx, change, moves)
    else if (change.to === 'refunded') await this.refundPaid(tx, change, moves)
  }

  /** Asks for a captured charge back, in the caller's transaction; the job runs once it has committed (and until the gateway has done it). */
  async requestRefund(tx: Tx, moves: OrderMoves, request: RefundRequest) {
    const { paymentId, chargeRef, reason, at } = request
    if (paymentId) await requestRefundOf(tx).run({ id: paymentId, at, reason })
    await scheduleJobs(
      tx,
      [{ kind: REFUND_JOB, payload: { charge_ref: chargeRef, ...(paymentId ? { payment_id: paymentId } : {}) }, runAt: this.deps.clock.now(), dedupeKey: refundKey(chargeRef) }],
      at,
    )
    moves.afterCommit(() => this.deps.jobs.runNow(refundKey(chargeRef)))
  }

  /**
   * The refs of a payment's charges. A payment without one may have its charge being created
   * right now: within the in-flight window that is `ChargeInFlight`; after it, the request
   * that opened it has ended (it is bounded by the gateway timeout), so the gateway's list of
   * the payment's charges is the truth (a crash between the charge and recording it).
   */
  async chargesOf(payment: Pick<PaymentRow, 'id' | 'gatewayRef' | 'createdAt'>): Promise<string[]> {
    if (payment.gatewayRef) return [payment.gatewayRef]
    if (this.inFlight(payment)) throw new ChargeInFlight(`Payment ${payment.id} may have its charge being created; decided once it is recorded or the in-flight window has passed`)
    return (await this.deps.gateway.listCharges({ paymentId: payment.id })).map((charge) => charge.ref)
  }

  inFlight(payment: Pick<PaymentRow, 'gatewayRef' | 'createdAt'>) {
    return payment.gatewayRef === null && this.deps.clock.now() - Date.parse(payment.createdAt) < this.deps.inFlightMs
  }

  /**
   * The void job. A charge that completed anyway (a card captured as the order closed) is
   * refunded; once the gateway has answered for every charge, the payment's money is settled.
   */
  async voidPayment(paymentId: string) {
    const { database, gateway, logger, lifecycle, clock } = this.deps
    const payment = await database.db.select().from(payments).where(eq(payments.id, paymentId)).get()
    if (!payment || payment.status === 'pending' || payment.status === 'paid') return
    const captured: string[] = []
    for (const ref of await this.chargesOf(payment)) {
      const status = await gateway.cancelCharge(ref)
      logger.info('charge voided', { payment_id: paymentId, charge_ref: ref, charge_status: status })
      if (status === 'paid') captured.push(ref)
    }
    const at = clock.iso()
    await lifecycle.write(async (tx, _transition, moves) => {
      for (const ref of captured)
        await this.requestRefund(tx, moves, { orderId: payment.orderId, paymentId: ref === payment.gatewayRef ? paymentId : undefined, chargeRef: ref, reason: 'captured as its order closed', at })
      await tx.update(payments).set({ voidRequestedAt: null }).where(eq(payments.id, paymentId))
    })
  }

  /** The refund job: acts on what the gateway says of the charge, so a repeat or a mistaken request moves no money. */
  async refundCharge(chargeRef: string, paymentId?: string) {
    const { gateway, logger, database, clock } = this.deps
    const status = await gateway.fetchStatus(chargeRef)
    if (status === 'paid') {
      await gateway.refund(chargeRef)
      logger.info('charge refunded', { payment_id: paymentId, charge_ref: chargeRef })
      return
    }
    if (status === 'refunded' || !paymentId) return
    // Nothing was captured: the request is withdrawn (the payment keeps its status).
    logger.warn('refund asked for a charge that is not captured; nothing to give back', { payment_id: paymentId, charge_ref: chargeRef, charge_status: status })
    await database.write((tx) =>
      tx
        .update(payments)
        .set({ refundRequestedAt: null, refundReason: null, updatedAt: clock.iso() })
        .where(and(eq(payments.id, paymentId), eq(payments.gatewayRef, chargeRef))),
    )
  }

  /** Every pending payment ends with the order (`expired` when unpaid, `cancelled` otherwise), each with a void job and a timeline entry. */
  private async closeOpen(tx: Tx, change: OrderChange, moves: OrderMoves) {
    const { orderId, to, at } = change
    const open = and(eq(payments.orderId, orderId), eq(payments.status, 'pending'))
    const closed = await tx
      .update(payments)
      .set({ status: to === 'unpaid' ? 'expired' : 'cancelled', voidRequestedAt: at, updatedAt: at })
      .where(open)
      .returning({ id: payments.id })
    if (!closed.length) return
    const now = this.deps.clock.now()
    await scheduleJobs(
      tx,
      closed.map(({ id }) => ({ kind: VOID_JOB, payload: { payment_id: id }, runAt: now, dedupeKey: voidKey(id) })),
      at,
    )
    for (const { id } of closed) {
      await moves.note(orderId, 'payment_voided', id, at)
      moves.afterCommit(() => this.deps.jobs.runNow(voidKey(id)))
    }
  }

  private async refundPaid(tx: Tx, change: OrderChange, moves: OrderMoves) {
    const paid = await tx
      .select()
      .from(payments)
      .where(and(eq(payments.orderId, change.orderId), eq(payments.status, 'paid')))
      .get()
    if (!paid?.gatewayRef) {
      this.deps.logger.error('refunded order has no paid payment to give back', { order_id: change.orderId })
      return
    }
    await this.requestRefund(tx, moves, { orderId: change.orderId, paymentId: paid.id, chargeRef: paid.gatewayRef, reason: change.reason ?? 'refund', at: change.at })
  }
}
