import type { Clock } from '../../lib/clock'
import { AppError, conflict, notFound } from '../../lib/errors'
import { newId } from '../../lib/ids'
import type { Logger } from '../../lib/logger'
import { pixCode } from '../../lib/pix'
import type { Charge, ChargeRequest, ChargeStatus, GatewayEvent, PaymentGateway, SimulatedBank } from './gateway'
import { signWebhook, verifyWebhookSignature } from './signature'

/** The test card the contract declines; every other number passing Luhn is approved. */
export const DECLINED_CARD = '4000000000000002'
const DELIVERY_ATTEMPTS = 3

interface FakeCharge {
  ref: string
  paymentId: string
  amount: number
  currency: string
  status: ChargeStatus
}

/** How the fake reaches the webhook route: a signed POST, exactly as a provider would send it. */
export type WebhookDelivery = (rawBody: string, signature: string) => Promise<Response>

export interface FakeGatewayOptions {
  webhookSecret: string
  clock: Clock
  logger: Logger
  /** The receiver named in Pix codes. */
  pix?: { key: string; merchantName: string; merchantCity: string }
}

const PIX_RECEIVER = { key: 'pix@shop.example', merchantName: 'Shop', merchantCity: 'Sao Paulo' }

/**
 * An in-process provider behind the real port: approves cards (but the one declined test
 * number), issues Pix codes, and reports outcomes only through the signed webhook, like a
 * real one (card approvals asynchronously, after the charge call has answered).
 */
export class FakeGateway implements PaymentGateway, SimulatedBank {
  private readonly charges = new Map<string, FakeCharge>()
  private readonly deliveries = new Set<Promise<void>>()
  private deliver?: WebhookDelivery

  constructor(private readonly options: FakeGatewayOptions) {}

  /** Sets where webhooks go; returns the previous target (tests cut delivery and restore it). */
  connect(deliver: WebhookDelivery): WebhookDelivery | undefined {
    const previous = this.deliver
    this.deliver = deliver
    return previous
  }

  async createCharge(request: ChargeRequest): Promise<Charge> {
    const charge: FakeCharge = { ref: `ch_${newId()}`, paymentId: request.paymentId, amount: request.amount, currency: request.currency, status: 'pending' }
    this.charges.set(charge.ref, charge)
    if (request.method === 'pix') {
      const { key, merchantName, merchantCity } = this.options.pix ?? PIX_RECEIVER
      const code = pixCode({ key, merchantName, merchantCity, amount: request.amount, txid: charge.ref.slice(3) })
      return { ref: charge.ref, status: 'pending', pix: { code, expiresAt: request.expiresAt } }
    }
    if (request.card?.number === DECLINED_CARD) {
      charge.status = 'failed'
      return { ref: charge.ref, status: 'failed' }
    }
    void this.settle(charge, 'paid')
    return { ref: charge.ref, status: 'pending' }
  }

  async fetchStatus(ref: string) {
    return this.charge(ref).status
  }

  async cancelCharge(ref: string) {
    const charge = this.charges.get(ref)
    if (charge?.status === 'pending') charge.status = 'expired'
  }

  /** Plays the customer's bank, then waits until the webhook has been delivered. */
  async simulate(ref: string, outcome: 'paid' | 'expired') {
    const charge = this.charge(ref)
    if (charge.status !== 'pending') throw conflict(`The charge is already ${charge.status}`)
    await this.settle(charge, outcome)
  }

  verifyWebhook(rawBody: string, signature: string | undefined, nowMs: number): GatewayEvent {
    verifyWebhookSignature(this.options.webhookSecret, rawBody, signature, nowMs)
    try {
      return JSON.parse(rawBody) as GatewayEvent
    } catch {
      throw new AppError(400, 'malformed_json', 'The webhook body is not JSON')
    }
  }

  /** Resolves once every webhook in flight has been delivered (or given up on). */
  async idle() {
    while (this.deliveries.size) await Promise.all(this.deliveries)
  }

  private charge(ref: string) {
    const charge = this.charges.get(ref)
    if (!charge) throw notFound('Charge')
    return charge
  }

  private settle(charge: FakeCharge, outcome: 'paid' | 'expired'): Promise<void> {
    charge.status = outcome
    const event: GatewayEvent = {
      id: `evt_${newId()}`,
      type: `charge.${outcome}`,
      charge_ref: charge.ref,
      payment_id: charge.paymentId,
      amount: charge.amount,
      currency: charge.currency,
      created: Math.floor(this.options.clock.now() / 1000),
    }
    const delivery = this.send(JSON.stringify(event)).finally(() => this.deliveries.delete(delivery))
    this.deliveries.add(delivery)
    return delivery
  }

  private async send(body: string) {
    const { logger, webhookSecret, clock } = this.options
    for (let attempt = 1; attempt <= DELIVERY_ATTEMPTS; attempt++) {
      try {
        const response = await this.deliver!(body, signWebhook(webhookSecret, body, Math.floor(clock.now() / 1000)))
        if (response.ok) return
        logger.warn('webhook refused', { status: response.status, attempt })
      } catch (error) {
        logger.warn('webhook delivery failed', { error: String(error), attempt })
      }
    }
    logger.error('webhook given up', { attempts: DELIVERY_ATTEMPTS })
  }
}
