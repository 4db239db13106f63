import { t } from 'elysia'
import { Id, Int, Problem, ProblemOf, strictObject, Timestamp } from '../../lib/models'
import { Text } from '../../lib/text'
import { PAYMENT_STATUSES } from './schema'

const PaymentStatusName = t.UnionEnum(PAYMENT_STATUSES, { default: undefined })
const PaymentMethodName = t.UnionEnum(['card', 'pix'], { default: undefined })

export const Payment = t.Object({
  id: t.String(),
  order_id: t.String(),
  method: PaymentMethodName,
  status: PaymentStatusName,
  amount: Int({ description: 'Minor units' }),
  currency: t.String(),
  created_at: Timestamp,
  card: t.Optional(t.Object({ brand: t.String(), last4: t.String() })),
  pix: t.Optional(t.Object({ code: t.String({ description: 'EMV BR Code "copia e cola" with its CRC16' }), expires_at: Timestamp })),
})
export const PaymentList = t.Object({ data: t.Array(Payment) })

const Card = strictObject({
  number: t.String({ pattern: '^\\d{12,19}$', description: 'Digits only; never stored (brand and last four are)' }),
  exp_month: Int({ minimum: 1, maximum: 12 }),
  exp_year: Int({ minimum: 2000, maximum: 2100 }),
  cvc: t.String({ pattern: '^\\d{3,4}$' }),
  holder: Text({ blank: false, minLength: 1, maxLength: 100 }),
})

export const PayBody = strictObject(
  { method: PaymentMethodName, card: t.Optional(Card) },
  {
    description: '`{ method: "card", card }` or `{ method: "pix" }`',
    examples: [{ method: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2030, cvc: '123', holder: 'Ada Lovelace' } }],
  },
)

export const SimulateBody = strictObject({ outcome: t.UnionEnum(['paid', 'expired'], { default: undefined }) }, { examples: [{ outcome: 'paid' }] })

export const WebhookAck = t.Object({ received: t.Boolean() })

/** What the gateway reports, signed; each event is applied once by its id. */
export const WebhookEvent = t.Object(
  {
    id: t.String({ minLength: 1, maxLength: 200, description: "The gateway's event id: a repeat is acknowledged and ignored" }),
    type: t.UnionEnum(['charge.paid', 'charge.failed', 'charge.expired', 'charge.refunded'], { default: undefined }),
    charge_ref: t.String({ minLength: 1, description: "The gateway's charge" }),
    payment_id: t.String({ minLength: 1 }),
    amount: Int({ description: 'Minor units: only exactly the order total marks it paid' }),
    currency: t.String(),
    created: Int({ description: 'Unix seconds' }),
  },
  { examples: [{ id: 'evt_01J9ZQ4K7M', type: 'charge.paid', charge_ref: 'ch_01J9ZQ3X2B', payment_id: '0196f1c2-7a3b-7c4d-9e5f-0a1b2c3d4e5f', amount: 10990, currency: 'BRL', created: 1767225600 }] },
)

export const PaymentParams = t.Object({ id: Id })

export const PayUnavailable = ProblemOf('`service_unavailable`: the payment provider did not answer (nothing was charged) or the database cannot write right now; retry')
export const PayConflict = ProblemOf(
  '`conflict`: the order does not await payment, or a payment of it is live; `address_required`: the order has no shipping address (set it with PATCH /v1/orders/{id}); `invalid_transition`: the order was cancelled or expired while this payment was made (its charge is voided, or refunded if captured)',
)
export const SimulateConflict = ProblemOf('`invalid_transition`: the payment is not pending (paid, cancelled or expired with its order), its charge was voided, or its Pix code is past `expires_at`')

export { Problem }
export type PaymentDto = typeof Payment.static
export type PayInput = typeof PayBody.static
