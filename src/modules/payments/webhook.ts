import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { Tx } from '../../db/client'
import { invalid } from '../../lib/errors'
import { WebhookEvent } from './model'
import type { OrderMoves } from '../orders'
import type { GatewayEvent } from './gateway'
import { adoptCharge, endPending, markPaid, markRefunded, paymentWithOrder, recordEvent, setEventOutcome } from './queries'
import type { PaymentsDeps } from './service'
import type { Settlement } from './settlement'

/** Compiled once: an event is checked on every webhook. */
const GatewayEventShape = TypeCompiler.Compile(WebhookEvent)

type PaymentWithOrder = NonNullable<Awaited<ReturnType<ReturnType<typeof paymentWithOrder>['get']>>>

/** The gateway's signed reports, each applied once. */
export class WebhookReceiver {
  constructor(
    private readonly deps: PaymentsDeps,
    private readonly settlement: Settlement,
  ) {}

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
  async apply(event: GatewayEvent, at: string) {
    await this.deps.lifecycle.write(async (tx, _transition, moves) => {
      const fresh = await recordEvent(tx).all({ id: event.id, type: event.type, paymentId: event.payment_id, at })
      if (!fresh.length) return
      const outcome = await this.applyOnce(tx, moves, event, at)
      if (outcome !== 'applied') await setEventOutcome(tx).run({ id: event.id, outcome })
    })
  }

  private async applyOnce(tx: Tx, moves: OrderMoves, event: GatewayEvent, at: string) {
    const payment = await paymentWithOrder(tx).get({ id: event.payment_id })
    // A charge of an unknown payment is an orphan: the reconciler refunds it from the gateway's own list.
    if (!payment) return 'unknown_payment'
    const ours = payment.gatewayRef === null || payment.gatewayRef === event.charge_ref
    // A payment whose request died before recording its charge learns it here.
    if (ours && payment.gatewayRef === null) await adoptCharge(tx).run({ id: payment.id, gatewayRef: event.charge_ref })
    if (event.type === 'charge.refunded') return this.refunded(tx, moves, payment, ours, at)
    if (event.type !== 'charge.paid') {
      if (ours) await endPending(tx).run({ id: payment.id, status: event.type === 'charge.failed' ? 'failed' : 'expired', at })
      return ours ? 'applied' : 'unknown_payment'
    }
    if (ours && payment.status === 'paid') return 'duplicate'
    const amountMatches = event.amount === payment.amount && event.currency === payment.currency && payment.amount === payment.orderTotal
    if (ours && amountMatches && payment.status === 'pending' && payment.orderStatus === 'pending_payment' && (await markPaid(tx).get({ id: payment.id, at }))) {
      await moves.transition(payment.orderId, 'paid', at)
      return 'applied'
    }
    const why = !ours ? 'a second charge of the payment' : !amountMatches ? 'an amount that does not match the order' : `the payment is ${payment.status} and the order ${payment.orderStatus}`
    this.deps.logger.warn('captured charge the order cannot take: refunding it', { payment_id: payment.id, order_id: payment.orderId, charge_ref: event.charge_ref, why })
    await this.settlement.requestRefund(tx, moves, { orderId: payment.orderId, paymentId: ours ? payment.id : undefined, chargeRef: event.charge_ref, reason: `captured while ${why}`, at })
    return amountMatches ? 'refunding' : 'amount_mismatch'
  }

  private async refunded(tx: Tx, moves: OrderMoves, payment: PaymentWithOrder, ours: boolean, at: string) {
    if (!ours || payment.status === 'refunded') return ours ? 'duplicate' : 'applied'
    await markRefunded(tx).run({ id: payment.id, at })
    await moves.note(payment.orderId, 'payment_refunded', payment.id, at)
    return 'applied'
  }
}
