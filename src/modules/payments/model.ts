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
  { description: '`{ method: "card", card }` or `{ method: "pix" }`' },
)

export const SimulateBody = strictObject({ outcome: t.UnionEnum(['paid', 'expired'], { default: undefined }) })

export const WebhookAck = t.Object({ received: t.Boolean() })

export const PaymentParams = t.Object({ id: Id })

export const PayUnavailable = ProblemOf('`service_unavailable`: the payment provider did not answer (nothing was charged) or the database cannot write right now; retry')
export const PayConflict = ProblemOf('`conflict`: the order does not await payment, or a payment of it is live; `address_required`: the order has no shipping address (set it with PATCH /v1/orders/{id}); `invalid_transition`: the order was cancelled or expired while this payment was made (its charge is voided, or refunded if captured)')
export const SimulateConflict = ProblemOf('`invalid_transition`: the payment is not pending (paid, cancelled or expired with its order), its charge was voided, or its Pix code is past `expires_at`')

export { Problem }
export type PaymentDto = typeof Payment.static
export type PayInput = typeof PayBody.static
