import { asc, eq } from 'drizzle-orm'
import type { Database, Queryable } from '../../db/client'
import type { Clock } from '../../lib/clock'
import { conflict, notFound } from '../../lib/errors'
import type { Logger } from '../../lib/logger'
import type { Principal } from '../../lib/access-tokens'
import type { Idempotency } from '../idempotency'
import type { OrderLifecycle, OrdersService } from '../orders'
import { canSimulate, type PaymentGateway } from './gateway'
import type { PayInput } from './model'
import { PaymentAttempts } from './pay'
import { checkPayment } from './payment-check'
import { toDto } from './queries'
import { payments } from './schema'
import { WebhookReceiver } from './webhook'

export interface PaymentsDeps {
  database: Database
  clock: Clock
  logger: Logger
  lifecycle: OrderLifecycle
  orders: OrdersService
  gateway: PaymentGateway
  idempotency: Idempotency
}

/** The payments face for routes and jobs: paying (pay.ts), the webhook (webhook.ts), the payment check (payment-check.ts). */
export class PaymentsService {
  private readonly attempts: PaymentAttempts
  private readonly webhooks: WebhookReceiver

  constructor(private readonly deps: PaymentsDeps) {
    this.attempts = new PaymentAttempts(deps)
    this.webhooks = new WebhookReceiver(deps)
  }

  pay(user: Principal, orderId: string, input: PayInput, idempotencyKey?: string) {
    return this.attempts.pay(user, orderId, input, idempotencyKey)
  }

  receiveWebhook(rawBody: Uint8Array, signature: string | undefined) {
    return this.webhooks.receiveWebhook(rawBody, signature)
  }

  checkPayment(orderId: string) {
    return checkPayment(this.deps, orderId)
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
    if (payment.status !== 'pending' || !payment.gatewayRef) throw conflict(`The payment is ${payment.status}: only a pending one can be settled`)
    await gateway.simulate(payment.gatewayRef, outcome)
    return toDto(await this.row(database.db, paymentId))
  }

  private async row(q: Queryable, id: string) {
    const row = await q.select().from(payments).where(eq(payments.id, id)).get()
    if (!row) throw notFound('Payment')
    return row
  }
}
