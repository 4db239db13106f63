import { t } from 'elysia'
import { Id, Int, Page, PageQuery, Problem, query, strictObject, Timestamp } from '../../lib/models'
import { Text } from '../../lib/text'

const MAX_UNITS = 1_000_000_000

export const StockBody = strictObject(
  {
    delta: t.Optional(Int({ minimum: -MAX_UNITS, maximum: MAX_UNITS, description: 'Units to add (negative: remove)' })),
    set: t.Optional(Int({ minimum: 0, maximum: MAX_UNITS, description: 'The stock counted; the ledger records the difference' })),
    reason: Text({ blank: false, maxLength: 200, description: "Why (stored as the ledger row's ref)" }),
  },
  { description: 'Exactly one of delta or set, plus reason', examples: [{ delta: 10, reason: 'Found in the back room' }] },
)
export const StockResult = t.Object({ stock: Int() })

export const Movement = t.Object({
  id: Int(),
  delta: Int(),
  reason: t.String({ description: 'adjustment, purchase, sale, cancellation, refund, flash_sale_reserve, flash_sale_return' }),
  ref: t.Union([t.String(), t.Null()], { description: "What caused it: an order, purchase or drop id, or the admin's reason" }),
  supplier: t.Optional(t.String()),
  stock_after: Int(),
  actor_id: t.Union([t.String(), t.Null()], { description: 'The admin who made it, when one did' }),
  created_at: Timestamp,
})
export const MovementPage = Page(Movement)
export const MovementsQuery = query({ ...PageQuery })
export const ProductParams = t.Object({ id: Id })

const PurchaseLine = strictObject({
  product_id: Id,
  quantity: Int({ minimum: 1, maximum: MAX_UNITS }),
  unit_cost: Int({ minimum: 0, maximum: 1_000_000_000_000, description: "Minor units of the product's currency" }),
})
export const PurchaseBody = strictObject(
  {
    supplier: Text({ blank: false, maxLength: 200 }),
    items: t.Array(PurchaseLine, { minItems: 1, maxItems: 200 }),
  },
  { examples: [{ supplier: 'Acme Ltd', items: [{ product_id: '0196f1c2-7a3b-7c4d-9e5f-0a1b2c3d4e5f', quantity: 100, unit_cost: 1500 }] }] },
)
export const Purchase = t.Object({
  id: t.String(),
  supplier: t.String(),
  items: t.Array(t.Object({ product_id: t.String(), quantity: Int(), unit_cost: Int(), currency: t.String() })),
  created_by: t.String(),
  created_at: Timestamp,
})
export const PurchasePage = Page(Purchase)
export const PurchasesQuery = query({ ...PageQuery })

export { Problem }
export type StockInput = typeof StockBody.static
export type PurchaseInput = typeof PurchaseBody.static
export type PurchaseDto = typeof Purchase.static
