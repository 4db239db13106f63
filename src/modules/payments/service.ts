import { and, asc, eq, isNotNull, ne, or } from 'drizzle-orm'
import type { Registry } from 'prom-client'
import type { Database, Queryable } from '../../db/client'
import type { Clock } from '../../lib/clock'
import { AppError, notFound } from '../../lib/errors'
import type { Logger } from '../../lib/logger'
import type { Principal } from '../../lib/access-tokens'
import type { Idempotency } from '../idempotency'
import type { JobQueue } from '../jobs'
import type { OrderLifecycle, OrdersService } from '../orders'
import { canSimulate, type PaymentGateway } from './gateway'
import type { PayInput } from './model'
import { PaymentAttempts } from './pay'
import { checkPayment } from './payment-check'
import { toDto } from './queries'
import { Reconciler } from './reconciler'
import { payments } from './schema'
import { Settlement } from './settlement'
import { WebhookReceiver } from './webhook'

export interface PaymentsDeps {
  database: Database
  clock: Clock
  logger: Logger
  lifecycle: OrderLifecycle
  orders: OrdersService
  gateway: PaymentGateway
  idempotency: Idempotency
  /** Runs the void and refund jobs at once after their commit (they stay durable if that fails). */
  jobs: Pick<JobQueue, 'runNow'>
  /** A gateway call that has not answered by then is abandoned (the payment fails, its key is given back). */
  gatewayTimeoutMs: number
  /** How long a payment without a charge ref may still be getting one: nothing decides about it sooner. */
  inFlightMs: number
}

/**
 * The payments face for routes and jobs: paying (pay.ts), the webhook (webhook.ts), the
 * payment check (payment-check.ts), voids and refunds (settlement.ts), the reconciler.
 */
export class PaymentsService {
  private readonly attempts: PaymentAttempts
  private readonly settlement: Settlement
  private readonly webhooks: WebhookReceiver

  constructor(private readonly deps: PaymentsDeps) {
    this.attempts = new PaymentAttempts(deps)
    this.settlement = new Settlement(deps)
    this.webhooks = new WebhookReceiver(deps, this.settlement)
  }

  /** The orders' status hook (registered by the app): payments close with their order, a refund gives the paid one back. */
  get onOrderStatus() {
    return this.settlement.onOrderStatus
  }

  /** The reconciler worker (started with the app): see reconciler.ts. */
  reconciler(metrics: Registry, everyMs: number) {
    return new Reconciler({ payments: this.deps, settlement: this.settlement, webhooks: this.webhooks, metrics, everyMs })
  }

  /** The void job. */
  voidPayment(paymentId: string) {
    return this.settlement.voidPayment(paymentId)
  }

  /** The refund job. */
  refundCharge(chargeRef: string, paymentId?: string) {
    return this.settlement.refundCharge(chargeRef, paymentId)
  }

  /** True while the gateway has yet to confirm a void or a refund of one of the order's payments (its money may still move). */
  async moneyInMotion(orderId: string) {
    const row = await this.deps.database.db
      .select({ id: payments.id })
      .from(payments)
      .where(and(eq(payments.orderId, orderId), or(isNotNull(payments.voidRequestedAt), and(isNotNull(payments.refundRequestedAt), ne(payments.status, 'refunded')))))
      .get()
    return row !== undefined
  }

  pay(user: Principal, orderId: string, input: PayInput, idempotencyKey?: string) {
    return this.attempts.pay(user, orderId, input, idempotencyKey)
  }

  receiveWebhook(rawBody: Uint8Array, signature: string | undefined) {
    return this.webhooks.receiveWebhook(rawBody, signature)
  }

  checkPayment(orderId: string) {
    return checkPayment(this.deps, this.settlement, orderId)
  }

  async list(user: Principal, orderId: string) {
    await this.deps.orders.visible(await this.deps.orders.viewer(user), orderId)
    const rows = await this.deps.database.db.select().from(payments).where(eq(payments.orderId, orderId)).orderBy(asc(payments.id))
    return { data: rows.map(toDto) }
  }

  /** The fake gateway only: settle a pending payment as the customer's bank would, through the webhook. */
  async simulate(user: Principal, paymentId: string, outcome: 'paid' | 'expired') {
    const { gateway, database } = this.deps
    if (!canSimulate(gateway)) throw notFound('Simulation (the configured gateway is not the fake)')
    const payment = await database.db.select().from(payments).where(eq(payments.id, paymentId)).get()
    if (!payment) throw notFound('Payment')
    await this.deps.orders.visible(await this.deps.orders.viewer(user), payment.orderId).catch(() => {
      throw notFound('Payment')
    })
    if (payment.status !== 'pending' || !payment.gatewayRef) throw new AppError(409, 'invalid_transition', `The payment is ${payment.status}: only a pending one can be settled`)
    await gateway.simulate(payment.gatewayRef, outcome)
    return toDto(await this.row(database.db, paymentId))
  }

  private async row(q: Queryable, id: string) {
    const row = await q.select().from(payments).where(eq(payments.id, id)).get()
    if (!row) throw notFound('Payment')
    return row
  }
}
