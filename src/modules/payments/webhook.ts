import { TypeCompiler } from '@sinclair/typebox/compiler'
import { t } from 'elysia'
import type { Tx } from '../../db/client'
import { invalid } from '../../lib/errors'
import { Int } from '../../lib/models'
import type { Transition } from '../orders'
import type { GatewayEvent } from './gateway'
import { endPending, markPaid, paymentWithOrder, recordEvent, setEventOutcome } from './queries'
import type { PaymentsDeps } from './service'

/** Compiled once: an event is checked on every webhook. */
const GatewayEventShape = TypeCompiler.Compile(t.Object({
  id: t.String({ minLength: 1, maxLength: 200 }),
  type: t.UnionEnum(['charge.paid', 'charge.failed', 'charge.expired'], { default: undefined }),
  charge_ref: t.String({ minLength: 1 }),
  payment_id: t.String({ minLength: 1 }),
  amount: Int(),
  currency: t.String(),
  created: Int(),
}))

/** The gateway's signed reports, each applied once. */
export class WebhookReceiver {
  constructor(private readonly deps: PaymentsDeps) {}

  /**
   * A gateway event, applied once by its id in the same transaction as its effect. Only a
   * verified `charge.paid` for exactly the order's amount marks an order paid.
   */
  async receiveWebhook(rawBody: Uint8Array, signature: string | undefined) {
    const { gateway, clock, lifecycle } = this.deps
    const event = gateway.verifyWebhook(rawBody, signature, clock.now())
    if (!GatewayEventShape.Check(event)) throw invalid([{ field: 'body', message: 'Not a gateway event' }])
    const at = clock.iso()
    await lifecycle.write(async (tx, transition) => {
      const fresh = await recordEvent(tx).all({ id: event.id, type: event.type, paymentId: event.payment_id, at })
      if (!fresh.length) return
      const outcome = await this.apply(tx, transition, event, at)
      if (outcome !== 'applied') await setEventOutcome(tx).run({ id: event.id, outcome })
    })
    return { received: true }
  }

  private async apply(tx: Tx, transition: Transition, event: GatewayEvent, at: string) {
    const payment = await paymentWithOrder(tx).get({ id: event.payment_id })
    if (!payment || (payment.gatewayRef !== null && payment.gatewayRef !== event.charge_ref)) return 'unknown_payment'
    if (event.type !== 'charge.paid') {
      await endPending(tx).run({ id: payment.id, status: event.type === 'charge.failed' ? 'failed' : 'expired', at })
      return 'applied'
    }
    if (event.amount !== payment.amount || event.currency !== payment.currency || payment.amount !== payment.orderTotal) {
      this.deps.logger.warn('paid event with a wrong amount ignored', { payment_id: payment.id, event_amount: event.amount, order_total: payment.orderTotal })
      return 'amount_mismatch'
    }
    await markPaid(tx).run({ id: payment.id, at })
    if (payment.orderStatus !== 'pending_payment') {
      this.deps.logger.error('payment completed after the order left pending_payment: refund it', { payment_id: payment.id, order_id: payment.orderId, status: payment.orderStatus })
      return 'late'
    }
    await transition(payment.orderId, 'paid', at)
    return 'applied'
  }
}
