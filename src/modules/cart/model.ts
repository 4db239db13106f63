import { t } from 'elysia'
import { ExactInt, Id, Int, Problem, ProblemOf, ShortLine, strictObject } from '../../lib/models'

const Quantity = Int({ minimum: 1, maximum: 999 })
/** The contract's bound: adding a line beyond it answers 422 `order_too_large`. */
export const MAX_CART_LINES = 100

const CartItem = t.Object({
  product_id: t.String(),
  title: t.String(),
  /** The product's price now: the order snapshots it at checkout. */
  unit_price: Int(),
  quantity: Int(),
  line_total: ExactInt(),
  available: Int({ description: 'Units in stock now (0 once the product is deleted)' }),
})

export const Cart = t.Object({
  items: t.Array(CartItem),
  subtotal: ExactInt({ description: 'Exact at any size; checkout refuses an order_total over 10^13' }),
  tax: ExactInt({ description: 'Region tax on the subtotal, rounded half up to the minor unit' }),
  total: ExactInt(),
  currency: t.Union([t.String(), t.Null()], { description: 'ISO 4217 of the cart region; null while the cart is empty' }),
  region_id: t.Union([t.String(), t.Null()]),
})

export const AddItemBody = strictObject({ product_id: Id, quantity: Quantity }, { examples: [{ product_id: '0196f1c2-7a3b-7c4d-9e5f-0a1b2c3d4e5f', quantity: 2 }] })
export const SetQuantityBody = strictObject({ quantity: Quantity }, { examples: [{ quantity: 3 }] })
export const ItemParams = t.Object({ product_id: Id })
export const AddItemInvalid = ProblemOf(`\`validation_failed\`; \`order_too_large\`: the cart already holds ${MAX_CART_LINES} lines`)
export const LineRefused = ProblemOf('`insufficient_stock`: the line would exceed the stock (`errors` names it); `region_mismatch`: the cart holds products of another region', {
  errors: t.Optional(t.Array(ShortLine)),
})

export { Problem }
export type CartDto = typeof Cart.static
