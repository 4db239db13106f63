import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { Tx } from '../../db/client'
import { writeBatches, type BatchOutcome } from '../../db/write-batches'
import { invalid } from '../../lib/errors'
import { WebhookEvent } from './model'
import type { OrderMoves } from '../orders'
import type { GatewayEvent } from './gateway'
import { adoptCharge, endPending, markPaidAll, markRefunded, paymentsWithOrders, recordEvents, setEventOutcomes, type PaymentWithOrder } from './queries'
import type { PaymentsDeps } from './service'
import type { Settlement } from './settlement'

/** Compiled once: an event is checked on every webhook. */
const GatewayEventShape = TypeCompiler.Compile(WebhookEvent)

/** An event to apply, and when it was received. */
interface Received {
  event: GatewayEvent
  at: string
}

/** The payment's own charge (or the one it never got to record). */
const ours = (payment: PaymentWithOrder, event: GatewayEvent) => payment.gatewayRef === null || payment.gatewayRef === event.charge_ref
const amountMatches = (payment: PaymentWithOrder, event: GatewayEvent) => event.amount === payment.amount && event.currency === payment.currency && payment.amount === payment.orderTotal
/** A capture the order takes: `charge.paid` for exactly the order's amount, on its pending payment's own charge, while the order awaits payment. */
const takesCapture = (payment: PaymentWithOrder, event: GatewayEvent) =>
  event.type === 'charge.paid' && ours(payment, event) && amountMatches(payment, event) && payment.status === 'pending' && payment.orderStatus === 'pending_payment'

/** The gateway's signed reports, each applied once. */
export class WebhookReceiver {
  /**
   * Events queued while the writer was busy, applied together (`applyGroup`); one payment's
   * events never share a group. Each is answered at the commit: the group's after-commit work
   * (a refund's gateway calls, unbounded) runs detached, so no webhook waits for another's.
   */
  private readonly applyQueued: (received: Received) => Promise<void>

  constructor(
    private readonly deps: PaymentsDeps,
    private readonly settlement: Settlement,
  ) {
    this.applyQueued = writeBatches<Received, void, { tx: Tx; moves: OrderMoves }>(
      (fn) => deps.lifecycle.write((tx, _transition, moves) => fn({ tx, moves }), { detach: true }),
      ({ tx, moves }, group) => this.applyGroup(tx, moves, group),
      ({ event }) => event.payment_id,
    )
  }

  /**
   * A gateway event, applied once by its id in the same transaction as its effect. Only a
   * verified `charge.paid` for exactly the order's amount, on its pending payment while the
   * order awaits payment, marks an order paid; any other capture is refunded.
   */
  async receiveWebhook(rawBody: Uint8Array, signature: string | undefined) {
    const { gateway, clock } = this.deps
    const event = gateway.verifyWebhook(rawBody, signature, clock.now())
    if (!GatewayEventShape.Check(event)) throw invalid([{ field: 'body', message: 'Not a gateway event' }])
    await this.apply(event, clock.iso())
    return { received: true }
  }

  /** Applies an event (also what the reconciler delivers for one the gateway never got through). */
  apply(event: GatewayEvent, at: string) {
    return this.applyQueued({ event, at })
  }

  /**
   * A group of events, each applied once: one INSERT records them (a known id is skipped), one
   * SELECT reads their payments with their orders. The common case, a capture its order takes,
   * is written for the group at once: one UPDATE of the payments, the orders moved to `paid` in
   * one statement per table. Every other event (a decline, an expiry, a refund, a capture to
   * give back, an unknown payment) is applied one by one: before the captures, or after them
   * when it came after a capture of its order. The end is the same as one event at a time in
   * arrival order: each event writes only its own payment, only a capture moves an order (a
   * second capture of an order paid in this group is given back, as it would be after the
   * first), and each order's events are applied in the order they came (a refund's timeline
   * note after the `paid` it followed, with that status).
   */
  private async applyGroup(tx: Tx, moves: OrderMoves, group: Received[]): Promise<BatchOutcome<void>[]> {
    const fresh = new Set(
      (
        await recordEvents(
          tx,
          group.map(({ event, at }) => ({ id: event.id, type: event.type, paymentId: event.payment_id, at })),
        )
      ).map((row) => row.id),
    )
    // `delete`: an id twice in the group is applied once.
    const applying = group.filter(({ event }) => fresh.delete(event.id))
    const found = applying.length ? await paymentsWithOrders(tx).all({ ids: JSON.stringify(applying.map(({ event }) => event.payment_id)) }) : []
    const paymentOf = new Map(found.map((payment) => [payment.id, payment]))
    const captures: (Received & { orderId: string })[] = []
    const paying = new Set<string>()
    const afterCaptures: [Received, PaymentWithOrder][] = []
    const outcomes: { id: string; outcome: string }[] = []
    const applyOnce = async (received: Received, payment: PaymentWithOrder | undefined) => {
      const outcome = await this.applyOnce(tx, moves, received, payment)
      if (outcome !== 'applied') outcomes.push({ id: received.event.id, outcome })
    }
    for (const received of applying) {
      const read = paymentOf.get(received.event.payment_id)
      const payment = read && paying.has(read.orderId) ? { ...read, orderStatus: 'paid' as const } : read
      if (payment && takesCapture(payment, received.event)) {
        captures.push({ ...received, orderId: payment.orderId })
        paying.add(payment.orderId)
      } else if (payment && paying.has(payment.orderId)) afterCaptures.push([received, payment])
      else await applyOnce(received, payment)
    }
    await this.capture(tx, moves, captures)
    for (const [received, payment] of afterCaptures) await applyOnce(received, payment)
    if (outcomes.length) await setEventOutcomes(tx, outcomes)
    return group.map(() => ({ value: undefined }))
  }

  /** The group's captures: read as takeable in this transaction, so each one must land (or nothing of the group does). */
  private async capture(tx: Tx, moves: OrderMoves, captures: (Received & { orderId: string })[]) {
    if (!captures.length) return
    const paid = await markPaidAll(
      tx,
      captures.map(({ event, at }) => ({ id: event.payment_id, chargeRef: event.charge_ref, at })),
    )
    const moved = await moves.transitionAll(
      captures.map(({ orderId, at }) => ({ orderId, at })),
      'paid',
    )
    if (paid.length !== captures.length || moved.length !== captures.length)
      throw new Error(`${captures.length} captures read as takeable, ${paid.length} payments and ${moved.length} orders became paid`)
  }

  /** An event that is not a capture its order takes. */
  private async applyOnce(tx: Tx, moves: OrderMoves, { event, at }: Received, payment: PaymentWithOrder | undefined) {
    // A charge of an unknown payment is an orphan: the reconciler refunds it from the gateway's own list.
    if (!payment) return 'unknown_payment'
    const own = ours(payment, event)
    // A payment whose request died before recording its charge learns it here.
    if (own && payment.gatewayRef === null) await adoptCharge(tx).run({ id: payment.id, gatewayRef: event.charge_ref })
    if (event.type === 'charge.refunded') return this.refunded(tx, moves, payment, own, at)
    if (event.type !== 'charge.paid') {
      if (own) await endPending(tx).run({ id: payment.id, status: event.type === 'charge.failed' ? 'failed' : 'expired', at })
      return own ? 'applied' : 'unknown_payment'
    }
    if (own && payment.status === 'paid') return 'duplicate'
    const matches = amountMatches(payment, event)
    const why = !own ? 'a second charge of the payment' : !matches ? 'an amount that does not match the order' : `the payment is ${payment.status} and the order ${payment.orderStatus}`
    this.deps.logger.warn('captured charge the order cannot take: refunding it', { payment_id: payment.id, order_id: payment.orderId, charge_ref: event.charge_ref, why })
    await this.settlement.requestRefund(tx, moves, { orderId: payment.orderId, paymentId: own ? payment.id : undefined, chargeRef: event.charge_ref, reason: `captured while ${why}`, at })
    return matches ? 'refunding' : 'amount_mismatch'
  }

  private async refunded(tx: Tx, moves: OrderMoves, payment: PaymentWithOrder, own: boolean, at: string) {
    if (!own || payment.status === 'refunded') return own ? 'duplicate' : 'applied'
    await markRefunded(tx).run({ id: payment.id, at })
    await moves.note(payment.orderId, 'payment_refunded', payment.id, at)
    return 'applied'
  }
}
