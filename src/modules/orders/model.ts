import { t } from 'elysia'
import { EventStream, Id, Int, Page, PageQuery, Problem, ProblemOf, query, ShortLine, strictObject, Timestamp } from '../../lib/models'
import { Text } from '../../lib/text'
import { Address } from '../accounts'
import { ORDER_STATUSES, TIMELINE_EVENTS } from './schema'

// UnionEnum defaults to its first member unless told otherwise: an omitted status must stay omitted.
const OrderStatusName = t.UnionEnum(ORDER_STATUSES, { default: undefined })

const OrderItem = t.Object({
  product_id: t.String(),
  title: t.String(),
  sku: t.String(),
  unit_price: Int({ description: 'Minor units, as it was when the order was placed' }),
  quantity: Int(),
  line_total: Int(),
})

const TimelineEntry = t.Object({
  status: OrderStatusName,
  at: Timestamp,
  event: t.Optional(t.UnionEnum(TIMELINE_EVENTS, { default: undefined, description: 'A money event: the status beside it is the order’s, unchanged' })),
  payment_id: t.Optional(t.String({ description: 'The payment the event is about' })),
})

export const Order = t.Object({
  id: t.String(),
  user_id: t.String(),
  status: OrderStatusName,
  source: t.Union([t.Literal('cart'), t.Literal('flash_sale')]),
  customer_name: t.String({ description: 'Empty once the customer erased their account' }),
  shipping_address: t.Union([Address, t.Null()]),
  items: t.Array(OrderItem),
  subtotal: Int(),
  tax: Int(),
  order_total: Int(),
  currency: t.String(),
  created_at: Timestamp,
  paid_at: t.Union([Timestamp, t.Null()]),
  payment_due_at: Timestamp,
  timeline: t.Array(TimelineEntry),
})

export const CheckoutBody = strictObject(
  {
    shipping_address: t.Optional(Address),
    customer_name: t.Optional(Text({ blank: false, minLength: 1, maxLength: 100 })),
  },
  { examples: [{ customer_name: 'Ada Lovelace', shipping_address: { line1: 'Rua Augusta 1500', line2: 'apto 42', city: 'São Paulo', state: 'SP', postal_code: '01304-001', country: 'BR' } }] },
)

export const PatchOrderBody = strictObject(
  { shipping_address: t.Optional(Address), status: t.Optional(OrderStatusName) },
  { minProperties: 1, description: 'The owner changes `shipping_address` while the order awaits payment; an admin sets `status`', examples: [{ status: 'shipped' }] },
)

export const RefundBody = strictObject(
  {
    reason: Text({ blank: false, multiline: true, minLength: 1, maxLength: 500, description: 'Why, for the records (kept with the payment)' }),
    restock: t.Optional(t.Boolean({ description: 'Take a shipped order’s units back into stock (an unshipped one’s always come back)' })),
  },
  { description: 'Refunds the order’s paid payment through the gateway', examples: [{ reason: 'Arrived damaged', restock: false }] },
)

export const IdempotencyHeaders = t.Object(
  { 'idempotency-key': t.Optional(t.String({ minLength: 1, maxLength: 255, description: 'Retries with the same key and body act once' })) },
  { additionalProperties: true },
)

const CreatedAt = (description: string) => t.String({ format: 'date-time', maxLength: 64, description })

export const OrdersQuery = query({
  ...PageQuery,
  status: t.Optional(OrderStatusName),
  source: t.Optional(t.UnionEnum(['cart', 'flash_sale'], { default: undefined, description: 'Where the order came from' })),
  from: t.Optional(CreatedAt('Orders created at or after this instant (RFC 3339)')),
  to: t.Optional(CreatedAt('Orders created before this instant (RFC 3339)')),
  q: t.Optional(Text({ blank: false, maxLength: 100, description: "Part of the customer's name or email, case-insensitive (an erased customer has neither)" })),
  user_id: t.Optional(t.String({ maxLength: 64, description: 'Admins only: one customer’s orders' })),
})
export const OrderPage = Page(Order)
export const OrderParams = t.Object({ id: Id })

export const EventsHeaders = t.Object({ 'last-event-id': t.Optional(t.String({ pattern: '^\\d{1,15}$' })) }, { additionalProperties: true })

export const CheckoutInvalid = ProblemOf(
  '`validation_failed` (an empty cart, no shipping address); `order_too_large`: the order_total would exceed 10^13 minor units (nothing is taken, the cart is kept)',
)
export const CancelConflict = ProblemOf(
  '`invalid_transition`: only an order awaiting payment is cancelled; its owner may also take back a paid order that has not shipped (refunded); an admin refunds with POST …/refund',
)
export const RefundConflict = ProblemOf('`invalid_transition`: only a paid, shipped or delivered order is refunded (once)')
export const CheckoutConflict = ProblemOf('`out_of_stock`: `errors` names every short line; nothing was taken and the cart is kept', { errors: t.Optional(t.Array(ShortLine)) })
export const PatchConflict = ProblemOf('`conflict`: the address changes only while the order awaits payment; `invalid_transition`; `address_required`: an order without a shipping address cannot ship')

export const StatusStream = EventStream(
  '`event: status`, `data: { status, at, event?, payment_id? }` (`event` on a money event: payment_voided, payment_refunded), `id` the timeline entry: the status now, then each change; ends after a final status',
)

export { Problem }
export type OrderDto = typeof Order.static
export type CheckoutInput = typeof CheckoutBody.static
export type PatchOrderInput = typeof PatchOrderBody.static
export type RefundInput = typeof RefundBody.static
export type OrdersQueryInput = typeof OrdersQuery.static
