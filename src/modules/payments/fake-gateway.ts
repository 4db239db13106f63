import { and, eq, isNotNull, sql } from 'drizzle-orm'
import { prepared, type Database } from '../../db/client'
import { rowInserter } from '../../db/row-inserter'
import type { Clock } from '../../lib/clock'
import { AppError, conflict, notFound } from '../../lib/errors'
import { newId } from '../../lib/ids'
import type { Logger } from '../../lib/logger'
import { pixCode } from '../../lib/pix'
import type { Charge, ChargeRequest, ChargeStatus, GatewayEvent, PaymentGateway, SimulatedBank } from './gateway'
import { fakeGatewayCharges } from './schema'
import { signWebhook, verifyWebhookSignature } from './signature'

/** The test card the contract declines; every other number passing Luhn is approved. */
export const DECLINED_CARD = '4000000000000002'
const DELIVERY_ATTEMPTS = 3

type StoredCharge = typeof fakeGatewayCharges.$inferSelect

/** How the fake reaches the webhook route: a signed POST, exactly as a provider would send it. */
export type WebhookDelivery = (rawBody: string, signature: string) => Promise<Response>

export interface FakeGatewayOptions {
  /** Where the fake keeps its charges (its own table), so they outlive a restart. */
  database: Database
  webhookSecret: string
  clock: Clock
  logger: Logger
  /** The receiver named in Pix codes. */
  pix?: { key: string; merchantName: string; merchantCity: string }
}

const insertCharges = rowInserter(fakeGatewayCharges, ['ref', 'paymentId', 'amount', 'currency', 'status', 'undeliveredEvent', 'createdAt', 'updatedAt'])
const markDelivered = prepared((q) =>
  q
    .update(fakeGatewayCharges)
    .set({ undeliveredEvent: null })
    .where(eq(fakeGatewayCharges.ref, sql.placeholder('ref')))
    .prepare(),
)

const PIX_RECEIVER = { key: 'pix@shop.example', merchantName: 'Shop', merchantCity: 'Sao Paulo' }
const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * An in-process provider behind the real port: approves cards (but the one declined test
 * number), issues Pix codes, and reports outcomes only through the signed webhook, like a
 * real one (card approvals asynchronously, after the charge call has answered). Its charges
 * and the webhooks it still owes are kept in `fake_gateway_charges`: a webhook the shop has
 * not acknowledged is sent again at the next start, as a provider keeps retrying.
 */
export class FakeGateway implements PaymentGateway, SimulatedBank {
  private readonly deliveries = new Set<Promise<void>>()
  private deliver?: WebhookDelivery

  constructor(private readonly options: FakeGatewayOptions) {}

  /** Sets where webhooks go; returns the previous target (tests cut delivery and restore it). */
  connect(deliver: WebhookDelivery): WebhookDelivery | undefined {
    const previous = this.deliver
    this.deliver = deliver
    return previous
  }

  /** Sends again the webhooks an earlier run owed (it stopped or gave up before the shop acknowledged them). */
  async start() {
    const owed = await this.options.database.db
      .select({ ref: fakeGatewayCharges.ref, event: fakeGatewayCharges.undeliveredEvent })
      .from(fakeGatewayCharges)
      .where(isNotNull(fakeGatewayCharges.undeliveredEvent))
    for (const { ref, event } of owed) void this.notify(ref, event!)
  }

  /** Webhooks in flight land before the shop stops. */
  stop() {
    return this.idle()
  }

  async createCharge(request: ChargeRequest): Promise<Charge> {
    const at = this.options.clock.iso()
    const status: ChargeStatus = request.method === 'pix' ? 'pending' : request.card?.number === DECLINED_CARD ? 'failed' : 'paid'
    const charge: StoredCharge = {
      ref: `ch_${newId()}`,
      paymentId: request.paymentId,
      amount: request.amount,
      currency: request.currency,
      status,
      undeliveredEvent: null,
      createdAt: at,
      updatedAt: at,
    }
    // An approved card is paid at once, but the shop only hears of it by webhook, after this call has answered.
    if (status === 'paid') charge.undeliveredEvent = this.eventOf(charge, 'paid')
    await this.options.database.write((tx) => insertCharges(tx, [charge]))
    if (charge.undeliveredEvent) void this.notify(charge.ref, charge.undeliveredEvent)
    if (request.method === 'pix') {
      const { key, merchantName, merchantCity } = this.options.pix ?? PIX_RECEIVER
      const code = pixCode({ key, merchantName, merchantCity, amount: request.amount, txid: charge.ref.slice(3) })
      return { ref: charge.ref, status: 'pending', pix: { code, expiresAt: request.expiresAt } }
    }
    return { ref: charge.ref, status: status === 'failed' ? 'failed' : 'pending' }
  }

  async fetchStatus(ref: string) {
    const charge = await this.options.database.db.select({ status: fakeGatewayCharges.status }).from(fakeGatewayCharges).where(eq(fakeGatewayCharges.ref, ref)).get()
    return charge?.status ?? null
  }

  async cancelCharge(ref: string) {
    const at = this.options.clock.iso()
    await this.options.database.write((tx) =>
      tx
        .update(fakeGatewayCharges)
        .set({ status: 'expired', updatedAt: at })
        .where(and(eq(fakeGatewayCharges.ref, ref), eq(fakeGatewayCharges.status, 'pending'))),
    )
  }

  /** Plays the customer's bank, then waits until the webhook has been delivered. */
  async simulate(ref: string, outcome: 'paid' | 'expired') {
    const at = this.options.clock.iso()
    const event = await this.options.database.write(async (tx) => {
      const charge = await tx.select().from(fakeGatewayCharges).where(eq(fakeGatewayCharges.ref, ref)).get()
      if (!charge) throw notFound('Charge')
      if (charge.status !== 'pending') throw conflict(`The charge is already ${charge.status}`)
      const undeliveredEvent = this.eventOf(charge, outcome)
      await tx.update(fakeGatewayCharges).set({ status: outcome, undeliveredEvent, updatedAt: at }).where(eq(fakeGatewayCharges.ref, ref))
      return undeliveredEvent
    })
    await this.notify(ref, event)
  }

  verifyWebhook(rawBody: Uint8Array, signature: string | undefined, nowMs: number): GatewayEvent {
    verifyWebhookSignature(this.options.webhookSecret, rawBody, signature, nowMs)
    try {
      return JSON.parse(utf8.decode(rawBody)) as GatewayEvent
    } catch {
      throw new AppError(400, 'malformed_json', 'The webhook body is not JSON')
    }
  }

  /** Resolves once every webhook in flight has been delivered (or given up on). */
  async idle() {
    while (this.deliveries.size) await Promise.all(this.deliveries)
  }

  private eventOf(charge: StoredCharge, outcome: 'paid' | 'expired') {
    const event: GatewayEvent = {
      id: `evt_${newId()}`,
      type: `charge.${outcome}`,
      charge_ref: charge.ref,
      payment_id: charge.paymentId,
      amount: charge.amount,
      currency: charge.currency,
      created: Math.floor(this.options.clock.now() / 1000),
    }
    return JSON.stringify(event)
  }

  private notify(ref: string, event: string): Promise<void> {
    const delivery = this.send(ref, event)
      // Delivered but not marked so: it is sent again at the next start, and the shop ignores a replay.
      .catch((error) => this.options.logger.error('webhook delivery not recorded', { charge_ref: ref, error: String(error) }))
      .finally(() => this.deliveries.delete(delivery))
    this.deliveries.add(delivery)
    return delivery
  }

  /** Posts the event until the shop acknowledges it, then stops owing it. */
  private async send(ref: string, event: string) {
    const { logger, webhookSecret, clock, database } = this.options
    for (let attempt = 1; attempt <= DELIVERY_ATTEMPTS; attempt++) {
      let response: Response
      try {
        response = await this.deliver!(event, signWebhook(webhookSecret, event, Math.floor(clock.now() / 1000)))
      } catch (error) {
        logger.warn('webhook delivery failed', { error: String(error), attempt })
        continue
      }
      if (response.ok) {
        await database.write((tx) => markDelivered(tx).run({ ref }))
        return
      }
      logger.warn('webhook refused', { status: response.status, attempt })
    }
    logger.error('webhook given up until the next start', { charge_ref: ref, attempts: DELIVERY_ATTEMPTS })
  }
}
