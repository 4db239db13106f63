import { and, asc, eq, inArray, isNotNull } from 'drizzle-orm'
import { Int } from '../../lib/models'
import { Value } from '@sinclair/typebox/value'
import { t } from 'elysia'
import type { Database, Queryable, Tx } from '../../db/client'
import { isoAt, type Clock } from '../../lib/clock'
import { AppError, conflict, invalid, notFound } from '../../lib/errors'
import { newId } from '../../lib/ids'
import type { Logger } from '../../lib/logger'
import { cardBrand, luhnValid } from '../../lib/luhn'
import { runWorkflow, step } from '../../lib/workflow'
import type { Principal } from '../../plugins/auth'
import type { Idempotency, IdempotentRequest, StoredResponse } from '../orders/idempotency'
import type { OrderLifecycle, Transition } from '../orders/lifecycle'
import { orders } from '../orders/schema'
import type { OrdersService } from '../orders/service'
import { canSimulate, type CardDetails, type Charge, type GatewayEvent, type PaymentGateway } from './gateway'
import type { PayInput, PaymentDto } from './model'
import { payments, webhookEvents } from './schema'

type PaymentRow = typeof payments.$inferSelect
type OrderRow = typeof orders.$inferSelect

const GatewayEventShape = t.Object({
  id: t.String({ minLength: 1, maxLength: 200 }),
  type: t.UnionEnum(['charge.paid', 'charge.failed', 'charge.expired'], { default: undefined }),
  charge_ref: t.String({ minLength: 1 }),
  payment_id: t.String({ minLength: 1 }),
  amount: Int(),
  currency: t.String(),
  created: Int(),
})

const declined = () => new AppError(402, 'payment_declined', 'The card was declined; the order still awaits payment')

export interface PaymentsDeps {
  database: Database
  clock: Clock
  logger: Logger
  lifecycle: OrderLifecycle
  orders: OrdersService
  gateway: PaymentGateway
  idempotency: Idempotency
}

interface PayContext {
  order: OrderRow
  input: PayInput
  paymentId: string
  request: IdempotentRequest | null
  nowMs: number
  charge?: Charge
  /** The answer: replayed from an earlier request with the key, or this one's. */
  response?: StoredResponse
}

const toDto = (row: PaymentRow): PaymentDto => ({
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

export class PaymentsService {
  constructor(private readonly deps: PaymentsDeps) {}

  /**
   * A payment as a workflow: open it (and claim the Idempotency-Key) → charge at the gateway
   * → record the outcome. The charge happens outside any transaction, so a failure after a
   * step has committed is undone by that step's compensation.
   */
  async pay(user: Principal, orderId: string, input: PayInput, idempotencyKey?: string): Promise<PaymentDto> {
    const { clock, idempotency, logger } = this.deps
    // Only the owner pays: an admin is a stranger here.
    const order = await this.deps.orders.visible({ id: user.id, admin: false }, orderId)
    this.checkInput(order, input)
    const request = idempotencyKey === undefined ? null : idempotency.request(user.id, idempotencyKey, `POST /v1/orders/${orderId}/payments`, input)
    const ctx: PayContext = { order, input, paymentId: newId(), request, nowMs: clock.now() }
    await runWorkflow(
      ctx,
      [
        // Compensate: a payment that never reached the gateway is failed and its key given back, so a retry may act.
        step('open payment', (c: PayContext) => this.open(c), (c, opened) => (opened ? this.abandon(c) : Promise.resolve())),
        // Compensate: a charge we could not record must not complete behind our back.
        step('charge', (c: PayContext) => this.charge(c), async (_c, charge) => charge && this.deps.gateway.cancelCharge(charge.ref)),
        step('record outcome', (c: PayContext) => this.record(c)),
      ],
      (name, error) => logger.error('payment compensation failed', { step: name, payment_id: ctx.paymentId, error: String(error) }),
    )
    if (ctx.response!.status === 402) throw declined()
    return ctx.response!.body as PaymentDto
  }

  private checkInput(order: OrderRow, input: PayInput) {
    if (input.method === 'pix') {
      if (input.card) throw invalid([{ field: 'card', message: 'Only for card payments' }])
      if (order.currency !== 'BRL') throw invalid([{ field: 'method', message: 'Pix takes BRL only' }])
      return
    }
    const card = input.card
    if (!card) throw invalid([{ field: 'card', message: 'Required for card payments' }])
    if (!luhnValid(card.number)) throw invalid([{ field: 'card.number', message: 'Not a valid card number' }])
    const now = new Date(this.deps.clock.now())
    if (card.exp_year * 12 + card.exp_month < now.getUTCFullYear() * 12 + now.getUTCMonth() + 1) {
      throw invalid([{ field: 'card.exp_year', message: 'The card has expired' }])
    }
  }

  /** Returns whether a payment was opened (false when the key replays an earlier answer). */
  private open(ctx: PayContext): Promise<boolean> {
    const { order, input, paymentId, request, nowMs } = ctx
    const at = isoAt(nowMs)
    return this.deps.database.write(async (tx) => {
      if (request) {
        const replayed = await this.deps.idempotency.replay(tx, request, nowMs)
        if (replayed) {
          ctx.response = replayed
          return false
        }
      }
      const current = await tx.select({ status: orders.status, total: orders.total }).from(orders).where(eq(orders.id, order.id)).get()
      if (current?.status !== 'pending_payment') throw conflict(`The order is ${current?.status}: it does not await payment`)
      const live = await tx
        .select({ id: payments.id })
        .from(payments)
        .where(and(eq(payments.orderId, order.id), inArray(payments.status, ['pending', 'paid'])))
        .get()
      // One live payment per order: two could both succeed and charge the customer twice.
      if (live) throw conflict('A payment of this order is already pending or paid', { payment_id: live.id })
      const card = input.card as CardDetails | undefined
      await tx.insert(payments).values({
        id: paymentId,
        orderId: order.id,
        method: input.method,
        status: 'pending',
        amount: current.total,
        currency: order.currency,
        cardBrand: card ? cardBrand(card.number) : null,
        cardLast4: card ? card.number.slice(-4) : null,
        createdAt: at,
        updatedAt: at,
      })
      if (request) await this.deps.idempotency.reserve(tx, request, nowMs)
      return true
    })
  }

  private abandon({ paymentId, request, nowMs }: PayContext) {
    return this.deps.database.write(async (tx) => {
      await tx.update(payments).set({ status: 'failed', updatedAt: isoAt(nowMs) }).where(and(eq(payments.id, paymentId), eq(payments.status, 'pending')))
      if (request) await this.deps.idempotency.release(tx, request)
    })
  }

  private async charge(ctx: PayContext): Promise<Charge | undefined> {
    if (ctx.response) return undefined
    const { order, input, paymentId } = ctx
    try {
      ctx.charge = await this.deps.gateway.createCharge({
        paymentId,
        amount: order.total,
        currency: order.currency,
        method: input.method,
        card: input.card as CardDetails | undefined,
        expiresAt: order.paymentDueAt,
      })
      return ctx.charge
    } catch (error) {
      this.deps.logger.error('gateway charge failed', { payment_id: paymentId, error: String(error) })
      throw new AppError(503, 'service_unavailable', 'The payment provider did not answer; nothing was charged, try again')
    }
  }

  private async record(ctx: PayContext) {
    const { charge, paymentId, request, nowMs } = ctx
    if (!charge) return
    const at = isoAt(nowMs)
    await this.deps.database.write(async (tx) => {
      // A fast webhook may have settled the payment already: only a decline changes the status here.
      await tx
        .update(payments)
        .set({ gatewayRef: charge.ref, pixCode: charge.pix?.code ?? null, pixExpiresAt: charge.pix?.expiresAt ?? null, updatedAt: at })
        .where(eq(payments.id, paymentId))
      if (charge.status === 'failed') await tx.update(payments).set({ status: 'failed' }).where(and(eq(payments.id, paymentId), eq(payments.status, 'pending')))
      ctx.response = charge.status === 'failed' ? { status: 402, body: null } : { status: 201, body: toDto(await this.row(tx, paymentId)) }
      if (request) await this.deps.idempotency.save(tx, request, ctx.response, nowMs)
    })
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

  /**
   * A gateway event, applied once by its id in the same transaction as its effect. Only a
   * verified `charge.paid` for exactly the order's amount marks an order paid.
   */
  async receiveWebhook(rawBody: Uint8Array, signature: string | undefined) {
    const { gateway, clock, lifecycle } = this.deps
    const event = gateway.verifyWebhook(rawBody, signature, clock.now())
    if (!Value.Check(GatewayEventShape, event)) throw invalid([{ field: 'body', message: 'Not a gateway event' }])
    const at = isoAt(clock.now())
    await lifecycle.write(async (tx, transition) => {
      const fresh = await tx
        .insert(webhookEvents)
        .values({ id: event.id, type: event.type, paymentId: event.payment_id, outcome: 'received', receivedAt: at })
        .onConflictDoNothing()
        .returning({ id: webhookEvents.id })
      if (!fresh.length) return
      const outcome = await this.apply(tx, transition, event, at)
      await tx.update(webhookEvents).set({ outcome }).where(eq(webhookEvents.id, event.id))
    })
    return { received: true }
  }

  private async apply(tx: Tx, transition: Transition, event: GatewayEvent, at: string) {
    const payment = await tx.select().from(payments).where(eq(payments.id, event.payment_id)).get()
    if (!payment || (payment.gatewayRef !== null && payment.gatewayRef !== event.charge_ref)) return 'unknown_payment'
    if (event.type !== 'charge.paid') {
      const status = event.type === 'charge.failed' ? 'failed' : 'expired'
      await tx.update(payments).set({ status, updatedAt: at }).where(and(eq(payments.id, payment.id), eq(payments.status, 'pending')))
      return 'applied'
    }
    const order = (await tx.select().from(orders).where(eq(orders.id, payment.orderId)).get())!
    if (event.amount !== payment.amount || event.currency !== payment.currency || payment.amount !== order.total) {
      this.deps.logger.warn('paid event with a wrong amount ignored', { payment_id: payment.id, event_amount: event.amount, order_total: order.total })
      return 'amount_mismatch'
    }
    await tx.update(payments).set({ status: 'paid', updatedAt: at }).where(eq(payments.id, payment.id))
    if (order.status !== 'pending_payment') {
      this.deps.logger.error('payment completed after the order left pending_payment: refund it', { payment_id: payment.id, order_id: order.id, status: order.status })
      return 'late'
    }
    await transition(order.id, 'paid', at)
    return 'applied'
  }

  /**
   * The payment-check job: an order still awaiting payment becomes `unpaid` (its units are
   * released) and its pending payments `expired`. Pending charges are cancelled at the
   * gateway first, so none can complete afterwards; one that already completed means its
   * webhook is on the way, so the job fails and is retried later instead. A charge the
   * gateway does not know (lost, purged) can never complete: it expires with the order
   * rather than hold it forever.
   */
  async checkPayment(orderId: string) {
    const { database, gateway, lifecycle, clock, logger } = this.deps
    const order = await database.db.select({ status: orders.status }).from(orders).where(eq(orders.id, orderId)).get()
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
    const at = isoAt(clock.now())
    await lifecycle.write(async (tx, transition) => {
      const current = await tx.select({ status: orders.status }).from(orders).where(eq(orders.id, orderId)).get()
      const paid = await tx.select({ id: payments.id }).from(payments).where(and(eq(payments.orderId, orderId), eq(payments.status, 'paid'))).get()
      if (current?.status !== 'pending_payment' || paid) return
      await tx.update(payments).set({ status: 'expired', updatedAt: at }).where(and(eq(payments.orderId, orderId), eq(payments.status, 'pending')))
      await transition(orderId, 'unpaid', at)
    })
  }

  private async row(q: Queryable, id: string) {
    const row = await q.select().from(payments).where(eq(payments.id, id)).get()
    if (!row) throw notFound('Payment')
    return row
  }
}
