import type { Tx } from '../../db/client'
import { writeBatches, type BatchOutcome } from '../../db/write-batches'
import { newId } from '../../lib/ids'
import { AppError, conflict, invalid, notFound } from '../../lib/errors'
import { isoAt } from '../../lib/clock'
import { cardBrand, luhnValid } from '../../lib/luhn'
import { runWorkflow, step } from '../../lib/workflow'
import type { Principal } from '../../lib/access-tokens'
import type { IdempotentRequest, StoredResponse } from '../idempotency'
import type { CardDetails, Charge } from './gateway'
import type { PayInput, PaymentDto } from './model'
import { endPending, insertPayments, livePaymentsOf, ordersToPay, recordCharges, toDto, type OrderToPay } from './queries'
import type { PaymentsDeps } from './service'

const declined = () => new AppError(402, 'payment_declined', 'The card was declined; the order still awaits payment')
const closedMeanwhile = () => new AppError(409, 'invalid_transition', 'The order stopped awaiting payment while this payment was made: its charge is voided, or refunded if it was captured')

/** Rejects once `ms` have passed: a gateway that does not answer must not hold the payment open past its in-flight window. */
function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the gateway did not answer within ${ms} ms`)), ms)
  })
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer))
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

/** Paying an order: the one flow that crosses the gateway, so the one with compensations. */
export class PaymentAttempts {
  /** Payments opened while the writer was busy, opened together (`openGroup`); one per customer in a batch. */
  private readonly openings: (ctx: PayContext) => Promise<boolean>
  /** Charges answered while the writer was busy, recorded together (`recordGroup`): each touches only its own payment and key. */
  private readonly records: (ctx: PayContext) => Promise<boolean>

  constructor(private readonly deps: PaymentsDeps) {
    this.openings = writeBatches(
      deps.database.write,
      (tx, group) => this.openGroup(tx, group),
      (ctx) => ctx.userId,
    )
    this.records = writeBatches(
      deps.database.write,
      (tx, group) => this.recordGroup(tx, group),
      (ctx) => ctx.paymentId,
    )
  }

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
        step(
          'open payment',
          (c: PayContext) => this.openings(c),
          (c, opened) => (opened ? this.abandon(c) : Promise.resolve()),
        ),
        // Compensate: a charge we could not record must not complete behind our back.
        step(
          'charge',
          (c: PayContext) => this.charge(c),
          async (_c, charge) => void (charge && (await this.deps.gateway.cancelCharge(charge.ref))),
        ),
        // No compensate: the last step, one transaction that commits or rolls back whole.
        step('record outcome', (c: PayContext) => this.record(c)),
      ],
      (name, error) => logger.error('payment compensation failed', { step: name, payment_id: ctx.paymentId, error: String(error) }),
    )
    if (ctx.response!.status === 402) throw declined()
    if (ctx.response!.status === 409) throw closedMeanwhile()
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
   * Opens a group of payments in one write, each succeeding or failing on its own, against one
   * read of their orders, one of their live payments and one of their keys. An order is read
   * here, in the transaction that opens its payment: only its owner pays (an admin is a
   * stranger here), and only while it awaits payment. No two requests of one customer share a
   * group, so none has to see another's writes: only the owner gets past the first check, and
   * a customer's keys are their own.
   */
  private async openGroup(tx: Tx, group: PayContext[]): Promise<BatchOutcome<boolean>[]> {
    const settled = new Map<PayContext, BatchOutcome<boolean>>()
    const rows = await ordersToPay(tx).all({ orderIds: JSON.stringify(group.map((ctx) => ctx.orderId)) })
    const orders = new Map(rows.map((order) => [order.id, order]))
    let open = sift(group, settled, (ctx) => {
      const order = orders.get(ctx.orderId)
      if (!order || order.userId !== ctx.userId) throw notFound('Order')
      this.checkInput(order, ctx.input)
      ctx.order = order
      return undefined
    })
    const replays = await this.deps.idempotency.replayMany(tx, open)
    open = sift(open, settled, (ctx, i) => {
      const replayed = replays[i]
      if (replayed instanceof AppError) throw replayed
      if (replayed) {
        ctx.response = replayed
        return { value: false }
      }
      const order = ctx.order!
      if (order.status !== 'pending_payment') throw conflict(`The order is ${order.status}: it does not await payment`)
      // Nothing is charged for an order that could not be shipped.
      if (!order.hasShippingAddress) throw new AppError(409, 'address_required', 'The order has no shipping address: set it with PATCH /v1/orders/{id}, then pay')
      return undefined
    })
    const live = open.length ? await livePaymentsOf(tx).all({ orderIds: JSON.stringify(open.map((ctx) => ctx.orderId)) }) : []
    const liveOf = new Map(live.map((payment) => [payment.orderId, payment.id]))
    open = sift(open, settled, (ctx) => {
      const payment = liveOf.get(ctx.orderId)
      // One live payment per order: two could both succeed and charge the customer twice.
      if (payment) throw conflict('A payment of this order is already pending or paid', { payment_id: payment })
      return undefined
    })
    await insertPayments(
      tx,
      open.map(({ paymentId, orderId, input, order, request, nowMs }) => {
        const card = input.card as CardDetails | undefined
        const at = isoAt(nowMs)
        return {
          id: paymentId,
          orderId,
          method: input.method,
          status: 'pending' as const,
          amount: order!.total,
          currency: order!.currency,
          cardBrand: card ? cardBrand(card.number) : null,
          cardLast4: card ? card.number.slice(-4) : null,
          idempotencyKey: request?.key ?? null,
          createdAt: at,
          updatedAt: at,
        }
      }),
    )
    // Held no longer than the payment can be in flight: a request that died gives its key back by itself.
    await this.deps.idempotency.reserveMany(tx, open, this.deps.inFlightMs)
    return group.map((ctx) => settled.get(ctx) ?? { value: true })
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
      const chargeRequest = { paymentId, amount: order.total, currency: order.currency, method: input.method, card: input.card as CardDetails | undefined, expiresAt: order.paymentDueAt }
      ctx.charge = await within(this.deps.gatewayTimeoutMs, this.deps.gateway.createCharge(chargeRequest))
      return ctx.charge
    } catch (error) {
      this.deps.logger.error('gateway charge failed', { payment_id: paymentId, error: String(error) })
      throw new AppError(503, 'service_unavailable', 'The payment provider did not answer; nothing was charged, try again')
    }
  }

  /**
   * Records the charge's ref whatever became of the payment meanwhile. A payment closed
   * underneath (its order cancelled while the charge was being created) answers 409: its void
   * job, waiting for this ref, voids the charge, and a capture is refunded by its webhook.
   */
  private async record(ctx: PayContext) {
    if (!ctx.charge) return
    const closed = await this.records(ctx)
    // At once rather than at the void job's next try; the job stays the durable record.
    if (closed) await this.deps.gateway.cancelCharge(ctx.charge.ref).catch(() => undefined)
  }

  /** Records a group of charges in one write (one UPDATE, one save of their keys); true for a payment closed meanwhile. */
  private async recordGroup(tx: Tx, group: PayContext[]): Promise<BatchOutcome<boolean>[]> {
    const charges = group.map(({ paymentId, charge, nowMs }) => ({
      id: paymentId,
      ref: charge!.ref,
      pixCode: charge!.pix?.code ?? null,
      pixExpiresAt: charge!.pix?.expiresAt ?? null,
      at: isoAt(nowMs),
      declined: charge!.status === 'failed',
    }))
    const rows = new Map((await recordCharges(tx).all({ charges: JSON.stringify(charges) })).map((row) => [row.id, row]))
    const outcomes = group.map((ctx): BatchOutcome<boolean> => {
      const row = rows.get(ctx.paymentId)
      if (!row) return { error: notFound('Payment') }
      const closedMeanwhile = row.status === 'cancelled' || row.status === 'expired'
      ctx.response = closedMeanwhile ? { status: 409, body: null } : ctx.charge!.status === 'failed' ? { status: 402, body: null } : { status: 201, body: toDto(row) }
      return { value: closedMeanwhile }
    })
    await this.deps.idempotency.saveMany(
      tx,
      group.flatMap(({ request, response, nowMs }) => (response ? [{ request, response, nowMs }] : [])),
    )
    return outcomes
  }
}

/**
 * Runs `check` on each request of a batch still going and returns those it lets through
 * (it returns nothing). A request it settles (returns an outcome) or fails (throws an
 * AppError) goes into `settled`, alone; another error fails the whole batch.
 */
function sift<T>(requests: T[], settled: Map<T, BatchOutcome<boolean>>, check: (request: T, i: number) => BatchOutcome<boolean> | undefined): T[] {
  return requests.filter((request, i) => {
    try {
      const outcome = check(request, i)
      if (!outcome) return true
      settled.set(request, outcome)
    } catch (error) {
      if (!(error instanceof AppError)) throw error
      settled.set(request, { error })
    }
    return false
  })
}
