/**
 * The money invariant, read from the books themselves: the gateway's own charges (the fake
 * gateway's table, standing in for the provider's ledger; our payments alone would never show
 * an orphan charge), our payments and orders, and the stock ledger. Holds at any quiet moment
 * (no request, job or webhook in flight). Used by the tests and by the bench scenarios.
 */
import { and, eq, inArray } from 'drizzle-orm'
import type { Queryable } from '../../src/db/client'
import { stockMovements } from '../../src/modules/catalog/schema'
import { flashSaleEntries } from '../../src/modules/flash-sale/schema'
import { orderItems, orders, orderTimeline } from '../../src/modules/orders/schema'
import { fakeGatewayCharges, payments } from '../../src/modules/payments/schema'

const PAID_LIKE = new Set(['paid', 'shipped', 'delivered'])

/**
 * Every broken rule, one line each (empty when the money adds up):
 * 1. every captured charge is the one `paid` payment of a paid, shipped or delivered order, or refunded;
 * 2. every such order has exactly one `paid` payment, whose charge is captured;
 * 3. a `refunded` payment's charge is refunded at the gateway;
 * 4. no charge is left payable (`pending`) but the one of a pending payment of an order awaiting payment;
 * 5. every refunded order put its stock back exactly once when it should: never twice, always
 *    before shipping (a flash-sale unit may instead have gone down the waitlist), and its payment is refunded.
 */
export async function moneyViolations(db: Queryable): Promise<string[]> {
  const [charges, pays, orderRows] = await Promise.all([
    db.select().from(fakeGatewayCharges),
    db.select().from(payments),
    db.select({ id: orders.id, status: orders.status, source: orders.source }).from(orders),
  ])
  const orderOf = new Map(orderRows.map((o) => [o.id, o]))
  const paymentOf = new Map(pays.map((p) => [p.id, p]))
  const chargeOf = new Map(charges.map((c) => [c.ref, c]))
  const broken: string[] = []

  for (const charge of charges) {
    const payment = paymentOf.get(charge.paymentId)
    const order = payment && orderOf.get(payment.orderId)
    const what = `charge ${charge.ref} (${charge.status}) of payment ${charge.paymentId} (${payment?.status ?? 'unknown'}) on order ${order?.id ?? '?'} (${order?.status ?? 'unknown'})`
    if (charge.status === 'paid' && !(payment?.status === 'paid' && payment.gatewayRef === charge.ref && order && PAID_LIKE.has(order.status)))
      broken.push(`captured ${what}: not the paid payment of a paid order, nor refunded`)
    if (charge.status === 'pending' && !(payment?.status === 'pending' && order?.status === 'pending_payment')) broken.push(`payable ${what}: its payment or order is closed (a void is missing)`)
  }
  for (const payment of pays) {
    const charge = payment.gatewayRef ? chargeOf.get(payment.gatewayRef) : undefined
    if (payment.status === 'paid' && charge?.status !== 'paid') broken.push(`payment ${payment.id} is paid but its charge is ${charge?.status ?? 'missing'}`)
    if (payment.status === 'refunded' && charge?.status !== 'refunded') broken.push(`payment ${payment.id} is refunded but its charge is ${charge?.status ?? 'missing'}`)
  }
  const paidPerOrder = new Map<string, number>()
  for (const payment of pays) if (payment.status === 'paid') paidPerOrder.set(payment.orderId, (paidPerOrder.get(payment.orderId) ?? 0) + 1)
  for (const order of orderRows) {
    const paid = paidPerOrder.get(order.id) ?? 0
    if (PAID_LIKE.has(order.status) && paid !== 1) broken.push(`order ${order.id} is ${order.status} with ${paid} paid payments`)
    if (!PAID_LIKE.has(order.status) && paid > 0) broken.push(`order ${order.id} is ${order.status} with a paid payment`)
  }
  broken.push(
    ...(await refundViolations(
      db,
      orderRows.filter((o) => o.status === 'refunded'),
      pays,
    )),
  )
  return broken
}

async function refundViolations(db: Queryable, refunded: { id: string; source: string }[], pays: (typeof payments.$inferSelect)[]): Promise<string[]> {
  if (!refunded.length) return []
  const ids = refunded.map((o) => o.id)
  const [items, moves, shipped, handedDown] = await Promise.all([
    db.select().from(orderItems).where(inArray(orderItems.orderId, ids)),
    db.select().from(stockMovements).where(inArray(stockMovements.ref, ids)),
    db
      .select({ orderId: orderTimeline.orderId })
      .from(orderTimeline)
      .where(and(inArray(orderTimeline.orderId, ids), eq(orderTimeline.status, 'shipped'))),
    // A flash-sale winner refunded before shipping whose unit went down the waitlist.
    db
      .select({ orderId: flashSaleEntries.orderId })
      .from(flashSaleEntries)
      .where(and(inArray(flashSaleEntries.orderId, ids), eq(flashSaleEntries.outcome, 'expired'))),
  ])
  const shippedIds = new Set(shipped.map((e) => e.orderId))
  const handed = new Set(handedDown.map((e) => e.orderId))
  const broken: string[] = []
  for (const order of refunded) {
    if (!pays.some((p) => p.orderId === order.id && p.status === 'refunded')) broken.push(`refunded order ${order.id} has no refunded payment`)
    for (const item of items.filter((i) => i.orderId === order.id)) {
      const back = moves.filter((m) => m.productId === item.productId && m.reason === 'refund')
      const units = back.reduce((sum, m) => sum + m.delta, 0)
      if (back.length > 1 || (units !== 0 && units !== item.quantity))
        broken.push(`refunded order ${order.id} put ${units} units of ${item.productId} back in ${back.length} rows (ordered ${item.quantity})`)
      const mustRestock = !shippedIds.has(order.id) && !(order.source === 'flash_sale' && handed.has(order.id))
      if (mustRestock && units !== item.quantity) broken.push(`refunded order ${order.id} had not shipped but put ${units} of ${item.quantity} units of ${item.productId} back`)
    }
  }
  return broken
}
