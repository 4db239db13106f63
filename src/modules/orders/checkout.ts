import type { Tx } from '../../db/client'
import { AppError, invalid } from '../../lib/errors'
import { runWorkflow, step } from '../../lib/workflow'
import { moveStock } from '../inventory/ledger'
import { availableOf, cartLines, clearCart, type CartLine } from '../cart/service'
import type { OrderLifecycle, PlacedOrder } from './lifecycle'

export interface CheckoutContext {
  tx: Tx
  lifecycle: OrderLifecycle
  orderId: string
  userId: string
  customerName: string
  shippingAddressSealed: string
  paymentDueAt: string
  at: string
  lines: CartLine[]
  /** Set by the step that creates it. */
  placed?: PlacedOrder
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
async function takeStock({ tx, lines, orderId, userId, at }: CheckoutContext) {
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
 * Checkout as explicit steps (reserve stock → create order → empty cart). They all run in
 * the caller's one write transaction, so a failing step rolls back every earlier one (the
 * stock and its ledger rows included): none needs a compensate. The charge is the payment
 * workflow's (POST /v1/orders/{id}/payments), which has real compensations.
 */
export const checkoutSteps = [
  step('load cart', async (ctx: CheckoutContext) => {
    ctx.lines = await cartLines(ctx.tx, ctx.userId)
    if (!ctx.lines.length) throw invalid([{ field: 'cart', message: 'The cart is empty' }])
  }),
  step('reserve stock', takeStock),
  step('create order', async (ctx: CheckoutContext) => {
    const region = ctx.lines[0]!
    ;[ctx.placed] = await ctx.lifecycle.placeOrders(
      ctx.tx,
      [
        {
          id: ctx.orderId,
          userId: ctx.userId,
          source: 'cart',
          regionId: region.regionId,
          currency: region.currency,
          customerName: ctx.customerName,
          shippingAddressSealed: ctx.shippingAddressSealed,
          items: ctx.lines.map((line) => ({ productId: line.productId, title: line.title, sku: line.sku, unitPrice: line.price, quantity: line.quantity })),
          pricesIncludeTax: false,
          taxBps: region.taxBps,
          paymentDueAt: ctx.paymentDueAt,
        },
      ],
      ctx.at,
    )
  }),
  step('empty cart', (ctx: CheckoutContext) => clearCart(ctx.tx, ctx.userId)),
]

export const checkout = (ctx: CheckoutContext) => runWorkflow(ctx, checkoutSteps)
