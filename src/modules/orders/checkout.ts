import type { Tx } from '../../db/client'
import { AppError, invalid } from '../../lib/errors'
import { availableOf, cartLines, clearCart, type CartLine } from '../cart'
import { moveStock } from '../catalog'
import type { OrderLifecycle } from './lifecycle'
import type { PlacedOrder } from './lifecycle-types'

/** What the checkout route settled before the transaction: who, where to, when. */
export interface CartOrder {
  orderId: string
  userId: string
  customerName: string
  shippingAddressSealed: string
  paymentDueAt: string
  at: string
}

interface ShortLine {
  product_id: string
  requested: number
  available: number
}

/**
 * Every line's units in guarded decrements (never below zero), each with its ledger row.
 * All lines are tried so the 409 names every short one; throwing rolls back those taken.
 */
async function takeStock(tx: Tx, lines: CartLine[], { orderId, userId, at }: CartOrder) {
  const short: ShortLine[] = []
  for (const line of lines) {
    // A deleted product is never sold, whatever stock it still holds.
    const taken = !line.deletedAt && (await moveStock(tx, { productId: line.productId, delta: -line.quantity, reason: 'sale', ref: orderId, actorId: userId }, at)) !== null
    // The lines were read in this transaction, so their stock is the stock the decrement saw.
    if (!taken) short.push({ product_id: line.productId, requested: line.quantity, available: availableOf(line) })
  }
  if (short.length) throw new AppError(409, 'out_of_stock', 'Some lines are short of stock; nothing was taken and the cart is kept', { errors: short })
}

/**
 * The cart becomes an order, in the caller's one write transaction: a step that throws rolls
 * back every earlier one (the stock and its ledger rows included), so no step needs a
 * compensation. The charge is the payment workflow's (POST /v1/orders/{id}/payments), which has real ones.
 */
export async function checkout(tx: Tx, lifecycle: OrderLifecycle, order: CartOrder): Promise<PlacedOrder> {
  // Read in this transaction: the stock of each line is what the decrements below will see.
  const lines = await cartLines(tx, order.userId)
  if (!lines.length) throw invalid([{ field: 'cart', message: 'The cart is empty' }])
  // Stock before the order: a short line ends the checkout before any order row is written.
  await takeStock(tx, lines, order)
  const region = lines[0]!
  const [placed] = await lifecycle.placeOrders(
    tx,
    [
      {
        id: order.orderId,
        userId: order.userId,
        source: 'cart',
        regionId: region.regionId,
        currency: region.currency,
        customerName: order.customerName,
        shippingAddressSealed: order.shippingAddressSealed,
        items: lines.map((line) => ({ productId: line.productId, title: line.title, sku: line.sku, unitPrice: line.price, quantity: line.quantity })),
        pricesIncludeTax: false,
        taxBps: region.taxBps,
        paymentDueAt: order.paymentDueAt,
      },
    ],
    order.at,
  )
  // Emptied last, once the order holds the lines.
  await clearCart(tx, order.userId)
  return placed!
}
