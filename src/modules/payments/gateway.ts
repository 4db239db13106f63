import type { PaymentMethod } from './schema'

export type ChargeStatus = 'pending' | 'paid' | 'failed' | 'expired'

export interface CardDetails {
  number: string
  exp_month: number
  exp_year: number
  cvc: string
  holder: string
}

export interface ChargeRequest {
  /** Our payment id: the gateway echoes it in its events. */
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

/** What a gateway reports about a charge: the only thing that marks an order paid. */
export interface GatewayEvent {
  id: string
  type: 'charge.paid' | 'charge.failed' | 'charge.expired'
  charge_ref: string
  payment_id: string
  amount: number
  currency: string
  /** Unix seconds. */
  created: number
}

/**
 * The port a real provider (Stripe, Mercado Pago) would implement. Calls go over the
 * network: never inside a database transaction.
 */
export interface PaymentGateway {
  createCharge(request: ChargeRequest): Promise<Charge>
  /** Null when the gateway does not know the charge (lost, or purged after expiring). */
  fetchStatus(ref: string): Promise<ChargeStatus | null>
  /** Stops a pending charge from completing (an expired Pix code, a charge we could not record). */
  cancelCharge(ref: string): Promise<void>
  /** The event of an authentic, fresh webhook (signed over these exact bytes); throws a 401 AppError otherwise. */
  verifyWebhook(rawBody: Uint8Array, signature: string | undefined, nowMs: number): GatewayEvent
}

/** The fake gateway's extra: play the customer's bank. */
export interface SimulatedBank {
  simulate(ref: string, outcome: 'paid' | 'expired'): Promise<void>
}

export const canSimulate = (gateway: PaymentGateway): gateway is PaymentGateway & SimulatedBank => 'simulate' in gateway
