import { t } from 'elysia'
import { Id, Int, Problem, strictObject } from '../../lib/models'

const Quantity = Int({ minimum: 1, maximum: 999 })

export const CartItem = t.Object({
  product_id: t.String(),
  title: t.String(),
  /** The product's price now: the order snapshots it at checkout. */
  unit_price: Int(),
  quantity: Int(),
  line_total: Int(),
  available: Int({ description: 'Units in stock now (0 once the product is deleted)' }),
})

export const Cart = t.Object({
  items: t.Array(CartItem),
  subtotal: Int(),
  tax: Int({ description: "Region tax on the subtotal, rounded half up to the minor unit" }),
  total: Int(),
  currency: t.Union([t.String(), t.Null()], { description: 'ISO 4217 of the cart region; null while the cart is empty' }),
  region_id: t.Union([t.String(), t.Null()]),
})

export const AddItemBody = strictObject({ product_id: Id, quantity: Quantity })
export const SetQuantityBody = strictObject({ quantity: Quantity })
export const ItemParams = t.Object({ product_id: Id })

export { Problem }
export type CartDto = typeof Cart.static
