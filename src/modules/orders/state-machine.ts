// The order state machine and the guarded statements that move orders through it: an order
// moves only when the table says it is in a status that may go there.
import { and, eq, inArray, isNotNull, sql } from 'drizzle-orm'
import { prepared, type Tx } from '../../db/client'
import { erasedAccountIds } from '../accounts'
import type { MoveTarget } from './lifecycle-types'
import { ORDER_STATUSES, orders, orderTimeline, type OrderSource, type OrderStatus } from './schema'

/** Where each status may go. */
export const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  pending_payment: ['paid', 'unpaid', 'cancelled'],
  paid: ['shipped', 'refunded'],
  shipped: ['delivered', 'refunded'],
  delivered: ['refunded'],
  unpaid: [],
  cancelled: [],
  refunded: [],
}
export const sourcesOf = (to: OrderStatus) => ORDER_STATUSES.filter((status) => TRANSITIONS[status].includes(to))

/** Paid and not yet at its end: the order still needs its shipping address, even once its customer erased their account. */
export const AWAITING_DELIVERY: readonly OrderStatus[] = ['paid', 'shipped']
/** Where an order awaiting delivery ends (delivered, or its money given back): an erased customer's address goes then. */
export const ENDS_DELIVERY = ORDER_STATUSES.filter((to) => !AWAITING_DELIVERY.includes(to) && sourcesOf(to).some((from) => AWAITING_DELIVERY.includes(from)))
/** Moves that need the shipping address: nothing ships without one. */
export const NEEDS_ADDRESS: readonly OrderStatus[] = ['shipped']
/** Leaving `pending_payment` for these gives the order's units back. */
export const RELEASING: readonly OrderStatus[] = ['unpaid', 'cancelled']

/** The one guarded UPDATE that moves an order to `to` (`paid` also stamps `paid_at`). */
function guardedMove(to: OrderStatus) {
  const at = sql`${sql.placeholder('at')}`
  const addressGuard = NEEDS_ADDRESS.includes(to) ? isNotNull(orders.shippingAddressSealed) : undefined
  return prepared((q) =>
    q
      .update(orders)
      .set({ status: to, updatedAt: at, ...(to === 'paid' ? { paidAt: at } : {}) })
      .where(and(eq(orders.id, sql.placeholder('orderId')), inArray(orders.status, sourcesOf(to)), addressGuard))
      .returning({ userId: orders.userId, source: orders.source })
      .prepare(),
  )
}
export const moveTo = Object.fromEntries(ORDER_STATUSES.map((to) => [to, guardedMove(to)])) as Record<OrderStatus, ReturnType<typeof guardedMove>>

/**
 * `moveTo` for a group of distinct orders in one UPDATE: the orders that moved, in no particular
 * order (RETURNING promises none). The status guard is `+status`, kept off orders_status_idx:
 * with it SQLite walked every order in a source status and scanned the JSON for each (a batch of
 * 32 webhooks against 2,000 orders awaiting payment took 23 ms; by id, 0.1 ms).
 */
export const moveAllStatement = (to: OrderStatus, targets: MoveTarget[]) => sql`
    UPDATE ${orders} SET status = ${to}, updated_at = m.at${to === 'paid' ? sql`, paid_at = m.at` : sql``}
    FROM (SELECT value ->> '$.orderId' AS id, value ->> '$.at' AS at FROM json_each(${JSON.stringify(targets)})) AS m
    WHERE ${orders.id} = m.id AND +${inArray(orders.status, sourcesOf(to))}${NEEDS_ADDRESS.includes(to) ? sql` AND ${isNotNull(orders.shippingAddressSealed)}` : sql``}
    RETURNING ${orders.id} AS orderId, ${orders.userId} AS userId, ${orders.source} AS source`
export const moveAllTo = (tx: Tx, to: OrderStatus, targets: MoveTarget[]) => tx.all<{ orderId: string; userId: string; source: OrderSource }>(moveAllStatement(to, targets))

export const appendTimeline = prepared((q) =>
  q
    .insert(orderTimeline)
    .values({ orderId: sql.placeholder('orderId'), status: sql.placeholder('status'), at: sql.placeholder('at') })
    .returning({ id: orderTimeline.id })
    .prepare(),
)
/** `appendTimeline` for a group of distinct orders entering `status`: each entry's id by its order. */
export const appendTimelines = async (tx: Tx, status: OrderStatus, targets: MoveTarget[]) =>
  new Map(
    (
      await tx.all<{ id: number; orderId: string }>(sql`
        INSERT INTO ${orderTimeline} (order_id, status, at)
        SELECT value ->> '$.orderId', ${status}, value ->> '$.at' FROM json_each(${JSON.stringify(targets)})
        RETURNING id, order_id AS orderId`)
    ).map((entry) => [entry.orderId, entry.id]),
  )

export const dropErasedAddress = prepared((q) =>
  q
    .update(orders)
    .set({ shippingAddressSealed: null })
    .where(and(eq(orders.id, sql.placeholder('orderId')), inArray(orders.userId, erasedAccountIds)))
    .prepare(),
)
export const currentOf = prepared((q) =>
  q
    .select({ status: orders.status, userId: orders.userId, source: orders.source })
    .from(orders)
    .where(eq(orders.id, sql.placeholder('orderId')))
    .prepare(),
)
