/**
 * The write side of orders, for every module that creates or moves an order (checkout, the
 * flash sale, payments, the payment-check job). Stable API, the flash sale depends on it:
 *
 * - `placeOrders(tx, inputs, at) → PlacedOrder[]`, inside the caller's write transaction: each
 *   order in `pending_payment`, its items (prices as given: a snapshot), its first timeline
 *   entry, and the payment-check job at `input.paymentDueAt`, one multi-row INSERT per table
 *   for the lot. It moves NO stock: the caller took the units already (checkout:
 *   `moveStock(-qty, 'sale')`; flash sale: when the drop opened).
 * - `onRelease(source, handler)`: `handler(tx, order, at)` runs inside the transaction that
 *   moves an order of that `source` from `pending_payment` to `unpaid` or `cancelled`, and
 *   owns what happens to its units. `cart` is registered here (back to stock, ledger reason
 *   `cancellation`); the flash sale registers `flash_sale`.
 *   A refund (`paid`, `shipped` or `delivered` → `refunded`) runs it too, with status
 *   `refunded`, when the units come back: the order had not shipped, or `restock` was asked.
 * - `onStatusChange(hook)`: `hook(tx, change, moves)` runs inside every transition's
 *   transaction, after the status moved (payments close their open payments and void or
 *   refund charges this way; orders know nothing of payments).
 * - `write(fn, { detach })`: a write transaction; `fn(tx, transition, moves)` moves orders
 *   (`transition`, or `transitionAll` for a group in one statement per table), notes money
 *   events on their timeline (`note`) and leaves work for after the commit (`afterCommit`).
 *   Each entry is published on the event bus (`ORDER_STATUS_CHANNEL`, an `OrderStatusEvent`
 *   each) once the transaction commits; with `detach`, `write` answers at the commit without
 *   waiting for that, and `settled()` waits for all of it (shutdown does).
 */
import { eq } from 'drizzle-orm'
import type { Database, Tx } from '../../db/client'
import { rowInserter } from '../../db/row-inserter'
import type { EventBus } from '../../infra/events'
import { AppError, notFound } from '../../lib/errors'
import { newId } from '../../lib/ids'
import type { Logger } from '../../lib/logger'
import { amountJson, lineTotal, MAX_ORDER_TOTAL, sumOf, totalsOf } from '../../lib/money'
import { moveStock } from '../catalog'
import { scheduleJobs } from '../jobs'
import {
  ORDER_STATUS_CHANNEL,
  PAYMENT_CHECK_JOB,
  type OrderChange,
  type OrderMoves,
  type OrderRow,
  type OrderStatusEvent,
  type PlacedOrder,
  type PlaceOrderInput,
  type ReleasedOrder,
  type ReleaseHandler,
  type StatusHook,
  type GroupStatus,
  type MoveTarget,
  type Transition,
  type TransitionOptions,
} from './lifecycle-types'
import { orderItems, orders, orderTimeline, type OrderSource, type OrderStatus, type TimelineEvent } from './schema'
import { appendTimeline, appendTimelines, currentOf, dropErasedAddress, ENDS_DELIVERY, moveAllTo, moveTo, NEEDS_ADDRESS, RELEASING, sourcesOf } from './state-machine'

const insertOrders = rowInserter(orders, [
  'id',
  'userId',
  'status',
  'source',
  'regionId',
  'currency',
  'customerName',
  'shippingAddressSealed',
  'subtotal',
  'tax',
  'total',
  'taxBps',
  'pricesIncludeTax',
  'paymentDueAt',
  'paidAt',
  'createdAt',
  'updatedAt',
])
const insertItems = rowInserter(orderItems, ['orderId', 'productId', 'title', 'sku', 'unitPrice', 'quantity', 'lineTotal'])
const insertTimeline = rowInserter(orderTimeline, ['orderId', 'status', 'at'])

const orderTooLarge = (total: bigint) =>
  new AppError(422, 'order_too_large', `The order_total would be ${total} minor units, over the limit of ${MAX_ORDER_TOTAL}: nothing was ordered, the cart is kept`, {
    extra: { order_total: amountJson(total), max_order_total: Number(MAX_ORDER_TOTAL) },
  })

export interface OrderLifecycleDeps {
  database: Database
  events: EventBus
  logger: Logger
}

export class OrderLifecycle {
  private readonly releaseHandlers = new Map<OrderSource, ReleaseHandler>()
  private readonly statusHooks: StatusHook[] = []
  /** After-commit work still running (see `settled`). */
  private readonly running = new Set<Promise<void>>()

  constructor(private readonly deps: OrderLifecycleDeps) {
    this.onRelease('cart', async (tx, order, at) => {
      const reason = order.status === 'refunded' ? 'refund' : 'cancellation'
      for (const item of order.items) {
        const stock = await moveStock(tx, { productId: item.productId, delta: item.quantity, reason, ref: order.id }, at)
        if (stock === null) throw new Error(`Cannot return stock of product ${item.productId} for order ${order.id}`)
      }
    })
  }

  onRelease(source: OrderSource, handler: ReleaseHandler) {
    this.releaseHandlers.set(source, handler)
  }

  onStatusChange(hook: StatusHook) {
    this.statusHooks.push(hook)
  }

  /** The rows written are returned as stored, so a caller can answer without reading them back. */
  async placeOrders(tx: Tx, inputs: PlaceOrderInput[], at: string): Promise<PlacedOrder[]> {
    const placed = inputs.map((input) => this.orderOf(input, at))
    await this.writeOrders(tx, placed)
    return placed
  }

  /** `placeOrders` in two steps, for a caller that decides each order of a group on its own: `orderOf` throws (422 `order_too_large`) before anything is written. */
  async writeOrders(tx: Tx, placed: PlacedOrder[]) {
    if (!placed.length) return
    await insertOrders(
      tx,
      placed.map((order) => order.row),
    )
    await insertItems(
      tx,
      placed.flatMap((order) => order.items),
    )
    await insertTimeline(
      tx,
      placed.map(({ row }) => ({ orderId: row.id, status: 'pending_payment' as const, at: row.createdAt })),
    )
    await scheduleJobs(
      tx,
      placed.map(({ row }) => ({ kind: PAYMENT_CHECK_JOB, payload: { order_id: row.id }, runAt: Date.parse(row.paymentDueAt), dedupeKey: `payment-check:${row.id}` })),
      placed[placed.length - 1]!.row.createdAt,
    )
  }

  orderOf(input: PlaceOrderInput, at: string): PlacedOrder {
    const id = input.id ?? newId()
    const lineTotals = input.items.map((item) => lineTotal(item.unitPrice, item.quantity))
    const { subtotal, tax, total } = totalsOf(sumOf(lineTotals), input.taxBps, input.pricesIncludeTax)
    // Checked before anything is written: under the bound every amount of the order (each line, the tax) is an exact number the driver reads back.
    if (total > MAX_ORDER_TOTAL) throw orderTooLarge(total)
    const items = input.items.map((item, i) => ({ orderId: id, ...item, lineTotal: Number(lineTotals[i]) }))
    const row: OrderRow = {
      id,
      userId: input.userId,
      status: 'pending_payment',
      source: input.source,
      regionId: input.regionId,
      currency: input.currency,
      customerName: input.customerName,
      shippingAddressSealed: input.shippingAddressSealed,
      subtotal: Number(subtotal),
      tax: Number(tax),
      total: Number(total),
      taxBps: input.taxBps,
      pricesIncludeTax: input.pricesIncludeTax,
      paymentDueAt: input.paymentDueAt,
      paidAt: null,
      createdAt: at,
      updatedAt: at,
    }
    return { row, items, timeline: [{ status: 'pending_payment', at }] }
  }

  /**
   * A write transaction whose timeline entries are published, and `afterCommit` work run, once
   * it has committed. `detach`: it answers at the commit and that work runs on its own (a
   * batch's requests must not wait for one another's gateway calls); `settled` waits for it.
   */
  async write<T>(fn: (tx: Tx, transition: Transition, moves: OrderMoves) => Promise<T>, { detach = false } = {}): Promise<T> {
    const changes: OrderStatusEvent[] = []
    const after: (() => Promise<unknown>)[] = []
    const result = await this.deps.database.write((tx) => {
      const record = (change: OrderStatusEvent) => {
        changes.push(change)
        return change
      }
      const moves: OrderMoves = {
        transition: (orderId, to, at, options) => this.transition(tx, moves, record, orderId, to, at, options),
        transitionAll: (targets, to, options) => this.transitionAll(tx, moves, record, targets, to, options),
        note: async (orderId, event, paymentId, at) => record(await this.note(tx, orderId, event, paymentId, at)),
        afterCommit: (work) => void after.push(work),
      }
      return fn(tx, moves.transition, moves)
    })
    const done = this.afterCommit(changes, after)
    if (!detach) await done
    return result
  }

  /** Resolves once no after-commit work is running, work started meanwhile included (shutdown waits for it before closing what it uses). */
  async settled() {
    while (this.running.size) await Promise.all(this.running)
  }

  /** Never rejects: a failure is logged, publishing is best effort and the work is backed by its durable job. */
  private afterCommit(changes: OrderStatusEvent[], after: (() => Promise<unknown>)[]) {
    const run: Promise<void> = (async () => {
      // All sent at the commit, in order: awaiting each one let a later write's events (a detached
      // batch answers first) reach the bus before the rest, and a live stream drops an older id.
      await Promise.all(changes.map((change) => this.publish(change)))
      for (const work of after) await work().catch((error) => this.deps.logger.warn('after-commit work failed; its durable job retries it', { error: String(error) }))
    })().finally(() => this.running.delete(run))
    this.running.add(run)
    return run
  }

  /** Guarded by the table: the UPDATE only matches an order in a status that may move to `to`. */
  private async transition(
    tx: Tx,
    moves: OrderMoves,
    record: (change: OrderStatusEvent) => OrderStatusEvent,
    orderId: string,
    to: OrderStatus,
    at: string,
    options: TransitionOptions = {},
  ): Promise<OrderStatusEvent> {
    // Only a refund has more than one status it may come from, and what it gives back depends on which.
    const before = to === 'refunded' ? await currentOf(tx).get({ orderId }) : undefined
    const order = await moveTo[to](tx).get({ orderId, at })
    if (!order) {
      const current = await tx.select({ status: orders.status, shippingAddressSealed: orders.shippingAddressSealed }).from(orders).where(eq(orders.id, orderId)).get()
      if (!current) throw notFound('Order')
      if (sourcesOf(to).includes(current.status) && NEEDS_ADDRESS.includes(to) && !current.shippingAddressSealed)
        throw new AppError(409, 'address_required', `An order without a shipping address cannot become ${to}`)
      throw new AppError(409, 'invalid_transition', `An order in ${current.status} cannot become ${to}`)
    }
    const entry = (await appendTimeline(tx).get({ orderId, status: to, at }))!
    return this.afterMove(tx, moves, record, { orderId, ...order, from: before?.status ?? sourcesOf(to)[0]!, to, at, reason: options.reason }, entry.id, options)
  }

  /** `transition` of a group, one UPDATE and one timeline INSERT for all; the rest per order as `transition` does it. */
  private async transitionAll(
    tx: Tx,
    moves: OrderMoves,
    record: (change: OrderStatusEvent) => OrderStatusEvent,
    targets: MoveTarget[],
    to: GroupStatus,
    options: TransitionOptions = {},
  ): Promise<OrderStatusEvent[]> {
    if (!targets.length) return []
    // One order twice would be moved once but released, published and hooked twice (stock given back twice).
    if (new Set(targets.map((target) => target.orderId)).size !== targets.length) throw new Error('transitionAll: an order appears twice in one group')
    const moved = new Map((await moveAllTo(tx, to, targets)).map((order) => [order.orderId, order]))
    const movedTargets = targets.filter((target) => moved.has(target.orderId))
    const entries = await appendTimelines(tx, to, movedTargets)
    const changes: OrderStatusEvent[] = []
    for (const { orderId, at } of movedTargets) {
      const { userId, source } = moved.get(orderId)!
      changes.push(await this.afterMove(tx, moves, record, { orderId, userId, source, from: sourcesOf(to)[0]!, to, at, reason: options.reason }, entries.get(orderId)!, options))
    }
    return changes
  }

  /** What follows an order's move, its timeline entry written: the erased address, the stream, the units, the hooks. */
  private async afterMove(tx: Tx, moves: OrderMoves, record: (change: OrderStatusEvent) => OrderStatusEvent, change: OrderChange, entryId: number, options: TransitionOptions) {
    const { orderId, userId, source, from, to, at } = change
    if (ENDS_DELIVERY.includes(to)) await dropErasedAddress(tx).run({ orderId })
    // Recorded before the hooks run: the money events they note come after the status on the stream too.
    const event = record({ event_id: entryId, order_id: orderId, user_id: userId, source, status: to, at })
    if (RELEASING.includes(to) || (to === 'refunded' && (from === 'paid' || options.restock))) await this.release(tx, orderId, { userId, source, status: to, from }, at)
    for (const hook of this.statusHooks) await hook(tx, change, moves)
    return event
  }

  private async note(tx: Tx, orderId: string, event: TimelineEvent, paymentId: string, at: string): Promise<OrderStatusEvent> {
    const order = await currentOf(tx).get({ orderId })
    if (!order) throw notFound('Order')
    const entry = await tx.insert(orderTimeline).values({ orderId, status: order.status, event, paymentId, at }).returning({ id: orderTimeline.id }).get()
    return { event_id: entry.id, order_id: orderId, user_id: order.userId, source: order.source, status: order.status, event, payment_id: paymentId, at }
  }

  private async release(tx: Tx, id: string, order: Omit<ReleasedOrder, 'id' | 'items'>, at: string) {
    const handler = this.releaseHandlers.get(order.source)
    if (!handler) throw new Error(`No release handler for orders of source ${order.source}`)
    const items = await tx.select({ productId: orderItems.productId, quantity: orderItems.quantity }).from(orderItems).where(eq(orderItems.orderId, id))
    await handler(tx, { id, ...order, items }, at)
  }

  /** Best effort: a subscriber that misses it catches up from the timeline. */
  private async publish(change: OrderStatusEvent) {
    try {
      await this.deps.events.publish(ORDER_STATUS_CHANNEL, change)
    } catch (error) {
      this.deps.logger.warn('order status not published', { order_id: change.order_id, error: String(error) })
    }
  }
}
