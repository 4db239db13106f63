import { and, asc, eq, inArray, isNotNull, sql } from 'drizzle-orm'
import { Int } from '../../lib/models'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { t } from 'elysia'
import { prepared, type Database, type Queryable, type Tx } from '../../db/client'
import { rowInserter } from '../../db/row-inserter'
import { isoAt, type Clock } from '../../lib/clock'
import { AppError, conflict, invalid, notFound } from '../../lib/errors'
import { newId } from '../../lib/ids'
import type { Logger } from '../../lib/logger'
import { cardBrand, luhnValid } from '../../lib/luhn'
import { runWorkflow, step } from '../../lib/workflow'
import type { Principal } from '../../lib/access-tokens'
import type { Idempotency, IdempotentRequest, StoredResponse } from '../idempotency'
import { orderTerms, type OrderLifecycle, type OrdersService, type Transition } from '../orders'
import { canSimulate, type CardDetails, type Charge, type GatewayEvent, type PaymentGateway } from './gateway'
import type { PayInput, PaymentDto } from './model'
import { payments, webhookEvents } from './schema'

type PaymentRow = typeof payments.$inferSelect

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

const ph = sql.placeholder
/** What paying an order needs of it, read in the payment's own transaction. */
const orderToPay = prepared((q) =>
  q
    .select({ id: orderTerms.id, userId: orderTerms.userId, status: orderTerms.status, total: orderTerms.total, currency: orderTerms.currency, paymentDueAt: orderTerms.paymentDueAt })
    .from(orderTerms)
    .where(eq(orderTerms.id, ph('orderId')))
    .prepare(),
)
type OrderToPay = NonNullable<Awaited<ReturnType<ReturnType<typeof orderToPay>['get']>>>
const livePaymentOf = prepared((q) =>
  q
    .select({ id: payments.id })
    .from(payments)
    .where(and(eq(payments.orderId, ph('orderId')), inArray(payments.status, ['pending', 'paid'])))
    .prepare(),
)
const insertPayments = rowInserter(payments, ['id', 'orderId', 'method', 'status', 'amount', 'currency', 'cardBrand', 'cardLast4', 'createdAt', 'updatedAt'])
const recordCharge = prepared((q) =>
  q
    .update(payments)
    .set({ gatewayRef: sql`${ph('gatewayRef')}`, pixCode: sql`${ph('pixCode')}`, pixExpiresAt: sql`${ph('pixExpiresAt')}`, updatedAt: sql`${ph('at')}` })
    .where(eq(payments.id, ph('id')))
    .returning()
    .prepare(),
)
/** A pending payment ends (`failed`, `expired`); one already settled keeps its status. */
const endPending = prepared((q) =>
  q
    .update(payments)
    .set({ status: sql`${ph('status')}`, updatedAt: sql`${ph('at')}` })
    .where(and(eq(payments.id, ph('id')), eq(payments.status, 'pending')))
    .prepare(),
)
const markPaid = prepared((q) =>
  q
    .update(payments)
    .set({ status: 'paid', updatedAt: sql`${ph('at')}` })
    .where(eq(payments.id, ph('id')))
    .prepare(),
)
/** A gateway event, recorded once by its id: `applied` unless applying it says otherwise. */
const recordEvent = prepared((q) =>
  q
    .insert(webhookEvents)
    .values({ id: ph('id'), type: ph('type'), paymentId: ph('paymentId'), outcome: 'applied', receivedAt: ph('at') })
    .onConflictDoNothing()
    .returning({ id: webhookEvents.id })
    .prepare(),
)
const setEventOutcome = prepared((q) =>
  q
    .update(webhookEvents)
    .set({ outcome: sql`${ph('outcome')}` })
    .where(eq(webhookEvents.id, ph('id')))
    .prepare(),
)
const paymentWithOrder = prepared((q) =>
  q
    .select({
      id: payments.id,
      gatewayRef: payments.gatewayRef,
      amount: payments.amount,
      currency: payments.currency,
      orderId: orderTerms.id,
      orderTotal: orderTerms.total,
      orderStatus: orderTerms.status,
    })
    .from(payments)
    .innerJoin(orderTerms, eq(orderTerms.id, payments.orderId))
    .where(eq(payments.id, ph('id')))
    .prepare(),
)

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
  userId: string
  orderId: string
  input: PayInput
  paymentId: string
  request: IdempotentRequest | null
  nowMs: number
  /** Set by the step that opens the payment. */
  order?: OrderToPay
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
    const request = idempotencyKey === undefined ? null : idempotency.request(user.id, idempotencyKey, `POST /v1/orders/${orderId}/payments`, input)
    const ctx: PayContext = { userId: user.id, orderId, input, paymentId: newId(), request, nowMs: clock.now() }
    await runWorkflow(
      ctx,
      [
        // Compensate: a payment that never reached the gateway is failed and its key given back, so a retry may act.
        step('open payment', (c: PayContext) => this.open(c), (c, opened) => (opened ? this.abandon(c) : Promise.resolve())),
        // Compensate: a charge we could not record must not complete behind our back.
        step('charge', (c: PayContext) => this.charge(c), async (_c, charge) => charge && this.deps.gateway.cancelCharge(charge.ref)),
        // No compensate: the last step, one transaction that commits or rolls back whole.
        step('record outcome', (c: PayContext) => this.record(c)),
      ],
      (name, error) => logger.error('payment compensation failed', { step: name, payment_id: ctx.paymentId, error: String(error) }),
    )
    if (ctx.response!.status === 402) throw declined()
    return ctx.response!.body as PaymentDto
  }

  private checkInput(order: OrderToPay, input: PayInput) {
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

  /**
   * Returns whether a payment was opened (false when the key replays an earlier answer). The
   * order is read here, in the transaction that opens the payment: only its owner pays (an
   * admin is a stranger here), and only while it awaits payment.
   */
  private open(ctx: PayContext): Promise<boolean> {
    const { orderId, input, paymentId, request, nowMs } = ctx
    const at = isoAt(nowMs)
    return this.deps.database.write(async (tx) => {
      const order = await orderToPay(tx).get({ orderId })
      if (!order || order.userId !== ctx.userId) throw notFound('Order')
      this.checkInput(order, input)
      if (request) {
        const replayed = await this.deps.idempotency.replay(tx, request, nowMs)
        if (replayed) {
          ctx.response = replayed
          return false
        }
      }
      if (order.status !== 'pending_payment') throw conflict(`The order is ${order.status}: it does not await payment`)
      const live = await livePaymentOf(tx).get({ orderId })
      // One live payment per order: two could both succeed and charge the customer twice.
      if (live) throw conflict('A payment of this order is already pending or paid', { payment_id: live.id })
      const card = input.card as CardDetails | undefined
      await insertPayments(tx, [
        {
          id: paymentId,
          orderId,
          method: input.method,
          status: 'pending',
          amount: order.total,
          currency: order.currency,
          cardBrand: card ? cardBrand(card.number) : null,
          cardLast4: card ? card.number.slice(-4) : null,
          createdAt: at,
          updatedAt: at,
        },
      ])
      if (request) await this.deps.idempotency.reserve(tx, request, nowMs)
      ctx.order = order
      return true
    })
  }

  private abandon({ paymentId, request, nowMs }: PayContext) {
    return this.deps.database.write(async (tx) => {
      await endPending(tx).run({ id: paymentId, status: 'failed', at: isoAt(nowMs) })
      if (request) await this.deps.idempotency.release(tx, request)
    })
  }

  private async charge(ctx: PayContext): Promise<Charge | undefined> {
    if (ctx.response) return undefined
    const { order, input, paymentId } = ctx as Required<PayContext>
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
      const row = await recordCharge(tx).get({ id: paymentId, gatewayRef: charge.ref, pixCode: charge.pix?.code ?? null, pixExpiresAt: charge.pix?.expiresAt ?? null, at })
      if (!row) throw notFound('Payment')
      if (charge.status === 'failed') await endPending(tx).run({ id: paymentId, status: 'failed', at })
      ctx.response = charge.status === 'failed' ? { status: 402, body: null } : { status: 201, body: toDto(row) }
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

  private async row(q: Queryable, id: string) {
    const row = await q.select().from(payments).where(eq(payments.id, id)).get()
    if (!row) throw notFound('Payment')
    return row
  }
}
