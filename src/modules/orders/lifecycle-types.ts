// The lifecycle's vocabulary: what `OrderLifecycle` is given (orders to place, moves to make,
// hooks to run) and what it publishes. Types and names only; the behaviour is lifecycle.ts.
import type { Tx } from '../../db/client'
import type { orderItems, orders, OrderSource, OrderStatus, TimelineEvent } from './schema'

export const ORDER_STATUS_CHANNEL = 'order-status'
export const PAYMENT_CHECK_JOB = 'orders.payment_check'

/** Published after a timeline entry commits; `event_id` is the timeline row id (the SSE id). */
export interface OrderStatusEvent {
  event_id: number
  order_id: string
  user_id: string
  source: OrderSource
  status: OrderStatus
  /** Set on a money event (the status is then the order's, unchanged). */
  event?: TimelineEvent
  payment_id?: string
  at: string
}

export interface OrderLineInput {
  productId: string
  title: string
  sku: string
  /** Minor units of `currency`. */
  unitPrice: number
  quantity: number
}

export interface PlaceOrderInput {
  /** Lets the caller name the order in its ledger rows before it exists; a new id otherwise. */
  id?: string
  userId: string
  source: OrderSource
  regionId: string
  currency: string
  customerName: string
  /** Sealed by the caller (`sealAddress`), or copied sealed from the profile. */
  shippingAddressSealed: string | null
  items: OrderLineInput[]
  /** True when the prices are final, tax included (a flash sale). */
  pricesIncludeTax: boolean
  taxBps: number
  /** ISO time of the payment check: unpaid by then, the order becomes `unpaid`. */
  paymentDueAt: string
}

export type OrderRow = typeof orders.$inferSelect
export type OrderItemRow = typeof orderItems.$inferSelect

/** An order as `placeOrders` stored it. */
export interface PlacedOrder {
  row: OrderRow
  items: OrderItemRow[]
  timeline: { status: OrderStatus; at: string }[]
}

export interface ReleasedOrder {
  id: string
  userId: string
  source: OrderSource
  /** `unpaid` or `cancelled`; `refunded` when a refund gives the units back. */
  status: OrderStatus
  /** The status it left (`paid` for a refund before shipping). */
  from: OrderStatus
  items: { productId: string; quantity: number }[]
}
export type ReleaseHandler = (tx: Tx, order: ReleasedOrder, at: string) => Promise<void>

export interface TransitionOptions {
  /** A refund of a shipped order: take the units back into stock all the same. */
  restock?: boolean
  /** Why (a refund's reason), for the hooks. */
  reason?: string
}

/** A move that happened, as the status hooks see it (inside its transaction). */
export interface OrderChange {
  orderId: string
  userId: string
  source: OrderSource
  from: OrderStatus
  to: OrderStatus
  at: string
  reason?: string
}

/** An order to move in a group, at its own time. */
export interface MoveTarget {
  orderId: string
  at: string
}

/** Where a group moves together: not a refund, whose every order needs its own status read first (what comes back depends on it). */
export type GroupStatus = Exclude<OrderStatus, 'refunded'>

/** What `write` gives its function besides the transaction. */
export interface OrderMoves {
  /** Moves the order (guarded by the state machine: 409 `invalid_transition` otherwise). */
  transition(orderId: string, to: OrderStatus, at: string, options?: TransitionOptions): Promise<OrderStatusEvent>
  /**
   * `transition` for a group of distinct orders (a batch of webhooks), one UPDATE and one
   * timeline INSERT for all: the changes of the orders that moved, in the order given; one that
   * cannot move is left out, not refused (the caller decided, in this transaction, that it can).
   */
  transitionAll(targets: MoveTarget[], to: GroupStatus, options?: TransitionOptions): Promise<OrderStatusEvent[]>
  /** A money event on the order's timeline; its status stays the order's. */
  note(orderId: string, event: TimelineEvent, paymentId: string, at: string): Promise<OrderStatusEvent>
  /** Runs once the transaction has committed (a failure there is logged: it must be backed by a durable job). */
  afterCommit(work: () => Promise<unknown>): void
}
export type StatusHook = (tx: Tx, change: OrderChange, moves: OrderMoves) => Promise<void>
export type Transition = OrderMoves['transition']
