import { and, asc, eq, gt, gte, isNull, or, sql, type SQL } from 'drizzle-orm'
import { prepared, type Database, type Tx } from '../../db/client'
import { rowInserter } from '../../db/row-inserter'
import type { Clock } from '../../lib/clock'
import { AppError, notFound } from '../../lib/errors'
import { newId } from '../../lib/ids'
import type { Logger } from '../../lib/logger'
import { pixCode } from '../../lib/pix'
import { writeBatches } from '../../db/write-batches'
import { scheduleJobs, settleJobs } from '../jobs'
import type { Charge, ChargeQuery, ChargeRecord, ChargeRequest, ChargeStatus, GatewayEvent, GatewayEventType, PaymentGateway, SimulatedBank } from './gateway'
import { fakeGatewayCharges, fakeGatewayEvents } from './schema'
import { signWebhook, verifyWebhookSignature } from './signature'

/** The test card the contract declines; every other number passing Luhn is approved. */
const DECLINED_CARD = '4000000000000002'
/** The job that sends a webhook the shop has not acknowledged, with backoff, until it does. */
export const WEBHOOK_DELIVERY_JOB = 'fake_gateway.webhook'
/** The first retry of a webhook whose immediate delivery failed; the job queue doubles it from there (up to 10 min). */
const FIRST_RETRY_MS = 2000

type StoredCharge = typeof fakeGatewayCharges.$inferSelect
/** A webhook the fake owes the shop: the exact body it sends. */
interface OwedWebhook {
  id: string
  chargeRef: string
  body: string
}

/** How the fake reaches the webhook route: a signed POST, exactly as a provider would send it. */
export type WebhookDelivery = (rawBody: string, signature: string) => Promise<Response>

export interface FakeGatewayOptions {
  /** Where the fake keeps its charges and owed webhooks (its own tables), so they outlive a restart. */
  database: Database
  webhookSecret: string
  clock: Clock
  logger: Logger
  /** The receiver named in Pix codes. */
  pix?: { key: string; merchantName: string; merchantCity: string }
}

const insertCharges = rowInserter(fakeGatewayCharges, ['ref', 'paymentId', 'amount', 'currency', 'status', 'expiresAt', 'createdAt', 'updatedAt'])
const insertEvents = rowInserter(fakeGatewayEvents, ['id', 'chargeRef', 'body', 'createdAt'])
const markDelivered = prepared((q) =>
  q
    .update(fakeGatewayEvents)
    .set({ deliveredAt: sql`${sql.placeholder('at')}` })
    .where(and(sql`${fakeGatewayEvents.id} IN (SELECT value FROM json_each(${sql.placeholder('ids')}))`, isNull(fakeGatewayEvents.deliveredAt)))
    .prepare(),
)
const deliveryKey = (eventId: string) => `webhook:${eventId}`

const PIX_RECEIVER = { key: 'pix@shop.example', merchantName: 'Shop', merchantCity: 'Sao Paulo' }
const utf8 = new TextDecoder('utf-8', { fatal: true })
const refused = (message: string) => new AppError(409, 'invalid_transition', message)

/**
 * An in-process provider behind the real port: approves cards (but the one declined test
 * number), issues Pix codes, voids and refunds, and reports outcomes only through the signed
 * webhook, like a real one (card approvals asynchronously, after the charge call has
 * answered). Its charges and the webhooks it owes live in its own tables; each owed webhook
 * is sent at once and, until the shop acknowledges it, again by a durable job with backoff,
 * for as long as it takes (a provider keeps retrying).
 */
export class FakeGateway implements PaymentGateway, SimulatedBank {
  private readonly deliveries = new Set<Promise<void>>()
  private deliver?: WebhookDelivery
  /** Charges created while the writer was busy, written together with the webhooks they owe. */
  private readonly storeCharge: (charge: StoredCharge) => Promise<OwedWebhook | null>
  /** Deliveries acknowledged while the writer was busy, recorded together. */
  private readonly recordDelivery: (eventId: string) => Promise<void>

  constructor(private readonly options: FakeGatewayOptions) {
    this.storeCharge = writeBatches(
      options.database.write,
      async (tx, charges) => {
        await insertCharges(tx, charges)
        const paid = charges.filter((charge) => charge.status === 'paid')
        const owed = new Map((await this.emit(tx, paid, 'charge.paid')).map((event) => [event.chargeRef, event]))
        return charges.map((charge) => ({ value: owed.get(charge.ref) ?? null }))
      },
      (charge) => charge.ref,
    )
    this.recordDelivery = writeBatches(
      options.database.write,
      async (tx, eventIds) => {
        const at = options.clock.iso()
        await markDelivered(tx).run({ ids: JSON.stringify(eventIds), at })
        await settleJobs(tx, eventIds.map(deliveryKey), at)
        return eventIds.map(() => ({ value: undefined }))
      },
      (eventId) => eventId,
    )
  }

  /** Sets where webhooks go; returns the previous target (tests cut delivery and restore it). */
  connect(deliver: WebhookDelivery): WebhookDelivery | undefined {
    const previous = this.deliver
    this.deliver = deliver
    return previous
  }

  /** Sends the webhooks still owed now, each with its retry job (one an earlier version owed may have none). */
  async start() {
    const { database } = this.options
    const owed = await database.db.select({ id: fakeGatewayEvents.id, body: fakeGatewayEvents.body }).from(fakeGatewayEvents).where(isNull(fakeGatewayEvents.deliveredAt))
    if (!owed.length) return
    await database.write((tx) =>
      this.scheduleRetries(
        tx,
        owed.map((event) => event.id),
      ),
    )
    for (const event of owed) void this.notify(event.id, event.body)
  }

  /** Webhooks in flight land before the shop stops. */
  stop() {
    return this.idle()
  }

  async createCharge(request: ChargeRequest): Promise<Charge> {
    const at = this.options.clock.iso()
    const pix = request.method === 'pix'
    const status: ChargeStatus = pix ? 'pending' : request.card?.number === DECLINED_CARD ? 'failed' : 'paid'
    const charge: StoredCharge = {
      ref: `ch_${newId()}`,
      paymentId: request.paymentId,
      amount: request.amount,
      currency: request.currency,
      status,
      expiresAt: pix ? request.expiresAt : null,
      createdAt: at,
      updatedAt: at,
    }
    // An approved card is paid at once, but the shop only hears of it by webhook, after this call has answered (and once it is owed, with its retry job).
    const owed = await this.storeCharge(charge)
    if (owed) void this.notify(owed.id, owed.body)
    if (pix) {
      const { key, merchantName, merchantCity } = this.options.pix ?? PIX_RECEIVER
      const code = pixCode({ key, merchantName, merchantCity, amount: request.amount, txid: charge.ref.slice(3) })
      return { ref: charge.ref, status: 'pending', pix: { code, expiresAt: request.expiresAt } }
    }
    return { ref: charge.ref, status: status === 'failed' ? 'failed' : 'pending' }
  }

  async fetchStatus(ref: string) {
    return (await this.charge(ref))?.status ?? null
  }

  async cancelCharge(ref: string) {
    const at = this.options.clock.iso()
    await this.options.database.write((tx) =>
      tx
        .update(fakeGatewayCharges)
        .set({ status: 'voided', updatedAt: at })
        .where(and(eq(fakeGatewayCharges.ref, ref), eq(fakeGatewayCharges.status, 'pending'))),
    )
    return this.fetchStatus(ref)
  }

  /** Gives a paid charge back, then waits until `charge.refunded` has been delivered (or handed to its retry job). */
  async refund(ref: string) {
    const at = this.options.clock.iso()
    const owed = await this.options.database.write(async (tx) => {
      const charge = await tx.select().from(fakeGatewayCharges).where(eq(fakeGatewayCharges.ref, ref)).get()
      if (!charge) throw notFound('Charge')
      if (charge.status === 'refunded') return null
      if (charge.status !== 'paid') throw refused(`The charge is ${charge.status}: only a paid one is refunded`)
      await tx.update(fakeGatewayCharges).set({ status: 'refunded', updatedAt: at }).where(eq(fakeGatewayCharges.ref, ref))
      return (await this.emit(tx, [charge], 'charge.refunded'))[0]!
    })
    if (owed) await this.notify(owed.id, owed.body)
  }

  async listCharges({ paymentId, changedSince, after, limit = 100 }: ChargeQuery): Promise<ChargeRecord[]> {
    const c = fakeGatewayCharges
    const filters: (SQL | undefined)[] = [paymentId === undefined ? undefined : eq(c.paymentId, paymentId), changedSince === undefined ? undefined : gte(c.updatedAt, changedSince)]
    if (after) filters.push(or(gt(c.updatedAt, after.updatedAt), and(eq(c.updatedAt, after.updatedAt), gt(c.ref, after.ref))))
    return this.options.database.db
      .select({ ref: c.ref, paymentId: c.paymentId, amount: c.amount, currency: c.currency, status: c.status, updatedAt: c.updatedAt })
      .from(c)
      .where(and(...filters))
      .orderBy(asc(c.updatedAt), asc(c.ref))
      .limit(limit)
  }

  /** Plays the customer's bank, then waits until the webhook has been delivered. A voided charge, or a Pix code past its time, cannot be paid. */
  async simulate(ref: string, outcome: 'paid' | 'expired') {
    const { clock, database } = this.options
    const at = clock.iso()
    const owed = await database.write(async (tx) => {
      const charge = await tx.select().from(fakeGatewayCharges).where(eq(fakeGatewayCharges.ref, ref)).get()
      if (!charge) throw notFound('Charge')
      if (charge.status !== 'pending') throw refused(`The charge is already ${charge.status}`)
      if (outcome === 'paid' && charge.expiresAt !== null && Date.parse(charge.expiresAt) <= clock.now()) throw refused('The Pix code has expired')
      await tx.update(fakeGatewayCharges).set({ status: outcome, updatedAt: at }).where(eq(fakeGatewayCharges.ref, ref))
      return (await this.emit(tx, [charge], `charge.${outcome}`))[0]!
    })
    await this.notify(owed.id, owed.body)
  }

  verifyWebhook(rawBody: Uint8Array, signature: string | undefined, nowMs: number): GatewayEvent {
    verifyWebhookSignature(this.options.webhookSecret, rawBody, signature, nowMs)
    try {
      return JSON.parse(utf8.decode(rawBody)) as GatewayEvent
    } catch {
      throw new AppError(400, 'malformed_json', 'The webhook body is not JSON')
    }
  }

  /** The delivery job: sends an owed webhook once more; throws (so the job backs off and retries) until the shop acknowledges it. */
  async redeliver(eventId: string) {
    const event = await this.options.database.db.select().from(fakeGatewayEvents).where(eq(fakeGatewayEvents.id, eventId)).get()
    if (!event || event.deliveredAt) return
    const status = await this.send(event.id, event.body)
    if (status !== 'delivered') throw new Error(`webhook ${eventId} not acknowledged (${status}); retrying with backoff`)
  }

  /** Resolves once every webhook in flight has been delivered (or handed to its retry job). */
  async idle() {
    while (this.deliveries.size) await Promise.all(this.deliveries)
  }

  private charge(ref: string) {
    return this.options.database.db.select().from(fakeGatewayCharges).where(eq(fakeGatewayCharges.ref, ref)).get()
  }

  /** Records the webhooks the charges now owe, with the jobs that retry them if the immediate delivery fails. */
  private async emit(tx: Tx, charges: StoredCharge[], type: GatewayEventType): Promise<OwedWebhook[]> {
    const { clock } = this.options
    const created = Math.floor(clock.now() / 1000)
    const createdAt = clock.iso()
    const owed = charges.map(({ ref, paymentId, amount, currency }) => {
      const event: GatewayEvent = { id: `evt_${newId()}`, type, charge_ref: ref, payment_id: paymentId, amount, currency, created }
      return { id: event.id, chargeRef: ref, body: JSON.stringify(event), createdAt }
    })
    await insertEvents(tx, owed)
    const ids = owed.map((event) => event.id)
    await this.scheduleRetries(tx, ids)
    return owed
  }

  private scheduleRetries(tx: Tx, eventIds: string[]) {
    const { clock } = this.options
    const runAt = clock.now() + FIRST_RETRY_MS
    return scheduleJobs(
      tx,
      eventIds.map((id) => ({ kind: WEBHOOK_DELIVERY_JOB, payload: { event_id: id }, runAt, dedupeKey: deliveryKey(id) })),
      clock.iso(),
    )
  }

  /** The immediate delivery; a failure is left to the event's retry job. */
  private notify(eventId: string, body: string): Promise<void> {
    const delivery = this.send(eventId, body)
      .then(() => undefined)
      .catch((error) => this.options.logger.error('webhook delivery not recorded; its job sends it again', { event_id: eventId, error: String(error) }))
      .finally(() => this.deliveries.delete(delivery))
    this.deliveries.add(delivery)
    return delivery
  }

  /** One signed POST; on acknowledgement the event stops being owed (its retry job with it). */
  private async send(eventId: string, body: string): Promise<'delivered' | string> {
    const { logger, webhookSecret, clock } = this.options
    let response: Response
    try {
      if (!this.deliver) return 'no receiver connected'
      response = await this.deliver(body, signWebhook(webhookSecret, body, Math.floor(clock.now() / 1000)))
    } catch (error) {
      logger.warn('webhook delivery failed; retried with backoff', { event_id: eventId, error: String(error) })
      return String(error)
    }
    if (!response.ok) {
      logger.warn('webhook refused; retried with backoff', { event_id: eventId, status: response.status })
      return `HTTP ${response.status}`
    }
    await this.recordDelivery(eventId)
    return 'delivered'
  }
}
