import type { Tx } from '../../db/client'
import { AppError, invalid } from '../../lib/errors'
import { availableOf, cartLines, clearCarts, type CartLine } from '../cart'
import { moveStocks, type StockMove } from '../catalog'
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

const outOfStock = (short: ShortLine[]) => new AppError(409, 'out_of_stock', 'Some lines are short of stock; nothing was taken and the cart is kept', { errors: short })

function orderInput(order: CartOrder, lines: CartLine[]) {
  const region = lines[0]!
  return {
    id: order.orderId,
    userId: order.userId,
    source: 'cart' as const,
    regionId: region.regionId,
    currency: region.currency,
    customerName: order.customerName,
    shippingAddressSealed: order.shippingAddressSealed,
    items: lines.map((line) => ({ productId: line.productId, title: line.title, sku: line.sku, unitPrice: line.price, quantity: line.quantity })),
    pricesIncludeTax: false,
    taxBps: region.taxBps,
    paymentDueAt: order.paymentDueAt,
  }
}

/**
 * A group of carts becomes orders, in the caller's one write transaction, each order
 * succeeding or failing on its own (the error in its place): decided in the order given
 * against one read of the stock (each cart read in this transaction, nothing written in
 * between), as if they had run one after another. A short line fails its order with a 409
 * naming every short line and what was left for it, never its neighbours. Then, for the
 * orders placed: one guarded stock UPDATE and one ledger INSERT, one INSERT per order table,
 * one DELETE of their carts. The charge is the payment workflow's (POST /v1/orders/{id}/payments).
 */
export async function placeCartOrders(tx: Tx, lifecycle: OrderLifecycle, orders: CartOrder[]): Promise<(PlacedOrder | AppError)[]> {
  const carts: CartLine[][] = []
  for (const order of orders) carts.push(await cartLines(tx, order.userId))
  const left = new Map<string, number>()
  for (const line of carts.flat()) if (!left.has(line.productId)) left.set(line.productId, availableOf(line))
  const moves: (StockMove & { at: string })[] = []
  const placed: PlacedOrder[] = []
  const outcomes = orders.map((order, i) => {
    const lines = carts[i]!
    if (!lines.length) return invalid([{ field: 'cart', message: 'The cart is empty' }])
    // Stock before the order: a short line ends the checkout before any order row is written.
    const short = lines.filter((line) => line.quantity > left.get(line.productId)!)
    if (short.length) return outOfStock(short.map((line) => ({ product_id: line.productId, requested: line.quantity, available: left.get(line.productId)! })))
    let built: PlacedOrder
    try {
      built = lifecycle.orderOf(orderInput(order, lines), order.at)
    } catch (error) {
      if (error instanceof AppError) return error
      throw error
    }
    for (const line of lines) {
      left.set(line.productId, left.get(line.productId)! - line.quantity)
      moves.push({ productId: line.productId, delta: -line.quantity, reason: 'sale', ref: order.orderId, actorId: order.userId, at: order.at })
    }
    placed.push(built)
    return built
  })
  await moveStocks(tx, moves)
  await lifecycle.writeOrders(tx, placed)
  // Emptied last, and only for the orders placed: a failed checkout keeps its cart.
  await clearCarts(
    tx,
    placed.map(({ row }) => row.userId),
  )
  return outcomes
}
