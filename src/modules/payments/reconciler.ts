import { and, eq, inArray, isNull, lt } from 'drizzle-orm'
import { Counter, type Registry } from 'prom-client'
import { isoAt } from '../../lib/clock'
import type { Worker } from '../../lib/worker'
import { orderTerms } from '../orders'
import type { ChargeRecord, GatewayEvent, GatewayEventType } from './gateway'
import { adoptCharge, endPending, type PaymentRow } from './queries'
import { payments } from './schema'
import type { PaymentsDeps } from './service'
import type { Settlement } from './settlement'
import type { WebhookReceiver } from './webhook'

/** What the reconciler can repair, as counted in `shop_payments_reconciled_total{action}`. */
export type RepairAction = 'webhook_delivered' | 'orphan_refunded' | 'orphan_voided' | 'charge_adopted' | 'stale_payment_failed' | 'key_released'

/** The first pass looks this far back; later ones from where the previous pass started, with an overlap for commits in flight. */
const FIRST_LOOKBACK_MS = 7 * 24 * 3600_000
const OVERLAP_MS = 60_000
const PAGE = 200

/** What a charge's status says happened, as the webhook the gateway would have sent. */
const EVENT_OF: Partial<Record<ChargeRecord['status'], GatewayEventType>> = {
  paid: 'charge.paid',
  refunded: 'charge.refunded',
  failed: 'charge.failed',
  expired: 'charge.expired',
  voided: 'charge.expired',
}

export interface ReconcilerDeps {
  payments: PaymentsDeps
  settlement: Settlement
  webhooks: WebhookReceiver
  metrics: Registry
  /** Between passes; 0 runs only the pass at start-up. */
  everyMs: number
}

/**
 * Compares the gateway's own books with our payments and repairs every mismatch it can
 * prove, at start-up and then every `everyMs`: a charge whose webhook never landed gets it
 * (applied through the same code as the webhook, so a capture the order cannot take is
 * refunded there); a pending charge of a closed or unknown payment is voided; a captured one
 * of an unknown payment is refunded; a payment whose request died before its charge was
 * recorded learns the charge, or fails (and gives its Idempotency-Key back) when the gateway
 * has none. Each repair is one log line and one count; every action is idempotent, so
 * instances sharing the database may all run it.
 */
export class Reconciler implements Worker {
  private readonly repaired: Counter<'action'>
  private readonly passes: Counter<'outcome'>
  private timer?: ReturnType<typeof setInterval>
  private running: Promise<void> | null = null
  private since?: number

  constructor(private readonly deps: ReconcilerDeps) {
    const registers = [deps.metrics]
    this.repaired = new Counter({
      name: 'shop_payments_reconciled_total',
      help: 'Mismatches between the gateway and our payments repaired by the reconciler, by action',
      labelNames: ['action'],
      registers,
    })
    this.passes = new Counter({ name: 'shop_payments_reconcile_passes_total', help: 'Reconciler passes, by outcome (ok, failed)', labelNames: ['outcome'], registers })
  }

  start() {
    const pass = () => void this.run().catch(() => undefined)
    pass()
    if (this.deps.everyMs > 0) this.timer = setInterval(pass, this.deps.everyMs)
  }

  async stop() {
    clearInterval(this.timer)
    await this.running?.catch(() => undefined)
  }

  /** One pass (a caller arriving mid-pass waits for it, then runs its own). */
  async run(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined)
    this.running = this.pass()
    try {
      await this.running
      this.passes.inc({ outcome: 'ok' })
    } catch (error) {
      this.passes.inc({ outcome: 'failed' })
      this.deps.payments.logger.error('reconciler pass failed', { error: String(error) })
      throw error
    } finally {
      this.running = null
    }
  }

  private async pass() {
    const { clock } = this.deps.payments
    const startedAt = clock.now()
    await this.staleAttempts()
    // From before the previous pass by more than the freshness it skipped, so nothing it left falls through.
    await this.gatewayCharges(isoAt((this.since ?? startedAt - FIRST_LOOKBACK_MS) - this.deps.payments.inFlightMs - OVERLAP_MS))
    this.since = startedAt
  }

  /**
   * Payments whose request died between opening them and recording their charge (a crash):
   * the gateway's list decides. A charge still payable was never shown to anyone (its Pix
   * code died with the request), so it is voided; a captured one is adopted and settled
   * like any other; with nothing captured the payment fails and its key is given back.
   */
  private async staleAttempts() {
    const { database, clock, inFlightMs, gateway } = this.deps.payments
    const stale = await database.db
      .select()
      .from(payments)
      .where(and(eq(payments.status, 'pending'), isNull(payments.gatewayRef), lt(payments.createdAt, isoAt(clock.now() - inFlightMs))))
    for (const payment of stale) {
      const captured: ChargeRecord[] = []
      for (const charge of await gateway.listCharges({ paymentId: payment.id })) {
        if (charge.status === 'pending') await this.voidUnseen(charge, payment)
        else captured.push(charge)
      }
      if (!captured.some((charge) => charge.status === 'paid' || charge.status === 'refunded')) await this.failStale(payment)
      for (const charge of captured) await this.reconcile(charge, payment)
    }
  }

  private async voidUnseen(charge: ChargeRecord, payment: PaymentRow) {
    const status = await this.deps.payments.gateway.cancelCharge(charge.ref)
    this.did('orphan_voided', { charge_ref: charge.ref, payment_id: payment.id, order_id: payment.orderId, charge_status: status })
  }

  /** Nothing reached the gateway: the payment failed, and its key (if the request had one) is free for a retry now. */
  private async failStale(payment: PaymentRow) {
    const { database, clock, idempotency } = this.deps.payments
    const released = await database.write(async (tx) => {
      await endPending(tx).run({ id: payment.id, status: 'failed', at: clock.iso() })
      if (!payment.idempotencyKey) return false
      const order = await tx.select({ userId: orderTerms.userId }).from(orderTerms).where(eq(orderTerms.id, payment.orderId)).get()
      return order ? idempotency.releaseUnfinished(tx, order.userId, payment.idempotencyKey) : false
    })
    this.did('stale_payment_failed', { payment_id: payment.id, order_id: payment.orderId })
    if (released) this.did('key_released', { payment_id: payment.id, order_id: payment.orderId })
  }

  /** The gateway's charges changed since `since`, page by page, each compared with its payment. */
  private async gatewayCharges(since: string) {
    const { gateway, database } = this.deps.payments
    let after: ChargeRecord | undefined
    for (;;) {
      const page = await gateway.listCharges({ changedSince: since, after, limit: PAGE })
      if (!page.length) return
      const ids = [...new Set(page.map((charge) => charge.paymentId))]
      const ours = new Map((await database.db.select().from(payments).where(inArray(payments.id, ids))).map((row) => [row.id, row]))
      for (const charge of page) await this.reconcile(charge, ours.get(charge.paymentId))
      after = page.at(-1)
    }
  }

  private async reconcile(charge: ChargeRecord, known: PaymentRow | undefined) {
    const { settlement, payments: deps } = this.deps
    const fields = { charge_ref: charge.ref, payment_id: charge.paymentId, order_id: known?.orderId, charge_status: charge.status }
    // Its request may still be recording it, its webhook or void still on the way: a later pass decides.
    if ((known && settlement.inFlight(known)) || Date.parse(charge.updatedAt) > deps.clock.now() - deps.inFlightMs) return
    // A payable charge its payment never recorded was never shown to the customer: voided, not adopted.
    if (known?.gatewayRef === null && charge.status === 'pending') return this.voidUnseen(charge, known)
    const payment = known?.gatewayRef === null ? await this.adopt(known, charge) : known
    const ownCharge = payment !== undefined && payment.gatewayRef === charge.ref
    if (charge.status === 'pending') {
      if (ownCharge && payment.status === 'pending') return
      await deps.gateway.cancelCharge(charge.ref)
      return this.did('orphan_voided', fields)
    }
    if (!payment) {
      if (charge.status !== 'paid') return
      await settlement.refundCharge(charge.ref)
      return this.did('orphan_refunded', fields)
    }
    if (this.agrees(charge, payment, ownCharge)) return
    const type = EVENT_OF[charge.status]
    if (!type) return
    // The webhook the gateway owes, applied once under its own id: a capture the order cannot take is refunded there.
    await this.deps.webhooks.apply(this.eventOf(charge, type), deps.clock.iso())
    this.did('webhook_delivered', { ...fields, event: type })
  }

  /** A payment whose request died before it recorded its charge learns it from the gateway. */
  private async adopt(payment: PaymentRow, charge: ChargeRecord): Promise<PaymentRow> {
    const { database } = this.deps.payments
    const adopted = await database.write(async (tx) => (await adoptCharge(tx).run({ id: payment.id, gatewayRef: charge.ref })).rowsAffected > 0)
    if (adopted) this.did('charge_adopted', { payment_id: payment.id, charge_ref: charge.ref, order_id: payment.orderId })
    // Re-read: another charge of the payment may have been adopted first.
    return (await database.db.select().from(payments).where(eq(payments.id, payment.id)).get()) ?? payment
  }

  /** True when our payment already says what the charge says (or its refund is under way). */
  private agrees(charge: ChargeRecord, payment: PaymentRow, ownCharge: boolean) {
    if (charge.status === 'paid') return ownCharge && (payment.status === 'paid' || payment.refundRequestedAt !== null)
    if (charge.status === 'refunded') return !ownCharge || payment.status === 'refunded'
    return payment.status !== 'pending' || (payment.gatewayRef !== null && !ownCharge)
  }

  private eventOf(charge: ChargeRecord, type: GatewayEventType): GatewayEvent {
    const { ref, paymentId, amount, currency, updatedAt } = charge
    return { id: `reconciled:${ref}:${charge.status}`, type, charge_ref: ref, payment_id: paymentId, amount, currency, created: Math.floor(Date.parse(updatedAt) / 1000) }
  }

  private did(action: RepairAction, fields: Record<string, unknown>) {
    this.repaired.inc({ action })
    this.deps.payments.logger.warn('reconciler repaired', { action, ...fields })
  }
}
