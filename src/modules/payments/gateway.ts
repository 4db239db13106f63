import type { PaymentMethod } from './schema'

/** `voided`: stopped by us before it completed; `expired`: the customer never paid it in time. */
export type ChargeStatus = 'pending' | 'paid' | 'failed' | 'expired' | 'voided' | 'refunded'

export interface CardDetails {
  number: string
  exp_month: number
  exp_year: number
  cvc: string
  holder: string
}

export interface ChargeRequest {
  /** Our payment id: the gateway echoes it in its events and lists its charges by it. */
  paymentId: string
  amount: number
  currency: string
  method: PaymentMethod
  card?: CardDetails
  /** When an unpaid Pix code stops working. */
  expiresAt: string
}

export interface Charge {
  ref: string
  /** `failed` is a decline; `pending` means the outcome comes by webhook. */
  status: ChargeStatus
  pix?: { code: string; expiresAt: string }
}

/** A charge as the gateway's own books hold it (what the reconciler compares with our payments). */
export interface ChargeRecord {
  ref: string
  paymentId: string
  amount: number
  currency: string
  status: ChargeStatus
  updatedAt: string
}

export type GatewayEventType = 'charge.paid' | 'charge.failed' | 'charge.expired' | 'charge.refunded'

/** What a gateway reports about a charge: the only thing that marks an order paid (or a payment refunded). */
export interface GatewayEvent {
  id: string
  type: GatewayEventType
  charge_ref: string
  payment_id: string
  amount: number
  currency: string
  /** Unix seconds. */
  created: number
}

export interface ChargeQuery {
  /** The charges of one payment (a payment whose request died before it learnt its charge's ref). */
  paymentId?: string
  /** Charges changed at or after this instant (ISO), oldest change first. */
  changedSince?: string
  /** Paging: the last `ref` of the previous page (with `changedSince`, its `updatedAt` too). */
  after?: { ref: string; updatedAt: string }
  limit?: number
}

/**
 * The port a real provider (Stripe, Mercado Pago) would implement. Calls go over the
 * network: never inside a database transaction. Every call is idempotent (a retry after a
 * timeout or a crash acts once).
 */
export interface PaymentGateway {
  createCharge(request: ChargeRequest): Promise<Charge>
  /** Null when the gateway does not know the charge (lost, or purged after expiring). */
  fetchStatus(ref: string): Promise<ChargeStatus | null>
  /** The void: stops a pending charge from completing; returns the charge's status afterwards (null if unknown). */
  cancelCharge(ref: string): Promise<ChargeStatus | null>
  /** Gives a captured charge back; `charge.refunded` follows by webhook. Refunding a refunded charge changes nothing. */
  refund(ref: string): Promise<void>
  /** The gateway's own record of charges, for reconciliation. */
  listCharges(query: ChargeQuery): Promise<ChargeRecord[]>
  /** The event of an authentic, fresh webhook (signed over these exact bytes); throws a 401 AppError otherwise. */
  verifyWebhook(rawBody: Uint8Array, signature: string | undefined, nowMs: number): GatewayEvent
}

/** The fake gateway's extra: play the customer's bank. */
export interface SimulatedBank {
  simulate(ref: string, outcome: 'paid' | 'expired'): Promise<void>
}

export const canSimulate = (gateway: PaymentGateway): gateway is PaymentGateway & SimulatedBank => 'simulate' in gateway
