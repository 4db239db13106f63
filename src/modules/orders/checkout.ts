import type { Tx } from '../../db/client'
import type { BatchOutcome } from '../../db/write-batches'
import { isoAt } from '../../lib/clock'
import { newId } from '../../lib/ids'
import { notFound } from '../../lib/errors'
import { openAddress, type checkAddress } from '../accounts'
import type { IdempotentRequest } from '../idempotency'
import type { CheckoutInput, OrderDto } from './model'
import { orderDto } from './order-dto'
import type { OrdersDeps } from './service'
import { AppError, invalid } from '../../lib/errors'
import { availableOf, cartsOf, clearCarts, type CartLine } from '../cart'
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
 * against one read of the stock (the carts read in one statement of this transaction, nothing
 * written in between), as if they had run one after another. A short line fails its order with a 409
 * naming every short line and what was left for it, never its neighbours. Then, for the
 * orders placed: one guarded stock UPDATE and one ledger INSERT, one INSERT per order table,
 * one DELETE of their carts. The charge is the payment workflow's (POST /v1/orders/{id}/payments).
 */
export async function placeCartOrders(tx: Tx, lifecycle: OrderLifecycle, orders: CartOrder[]): Promise<(PlacedOrder | AppError)[]> {
  const cartOf = await cartsOf(
    tx,
    orders.map((order) => order.userId),
  )
  const carts = orders.map((order) => cartOf.get(order.userId)!)
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

/** A checkout as the route gave it, settled before the write: the address sealed, the idempotency request made. */
export interface CheckoutRequest {
  userId: string
  input: CheckoutInput
  given?: ReturnType<typeof checkAddress>
  givenSealed?: string
  request: IdempotentRequest | null
  nowMs: number
}

/** The request has no name or no address of its own: the profile's are used. */
const leavesDefaults = ({ input, givenSealed }: CheckoutRequest) => !(givenSealed && input.customer_name)

/** What a batch of checkouts needs of the orders service's own deps. */
export type CheckoutDeps = Pick<OrdersDeps, 'dataKeys' | 'lifecycle' | 'idempotency' | 'paymentCheckDelayMs' | 'contacts'>

/**
 * A batch of checkouts in one write (see `writeBatches`), each answered alone: one read of the
 * keys, one of the profiles that defaults come from, then `placeCartOrders`, then one save of
 * the answers under their keys.
 */
export async function checkoutGroup(tx: Tx, deps: CheckoutDeps, requests: CheckoutRequest[]): Promise<BatchOutcome<OrderDto>[]> {
  const { dataKeys, idempotency } = deps
  const outcomes: BatchOutcome<OrderDto>[] = []
  const toPlace: { i: number; order: CartOrder }[] = []
  const replays = await idempotency.replayMany(tx, requests)
  // The profiles only of those whose body leaves something to default.
  const defaulted = requests.filter((request, i) => !replays[i] && leavesDefaults(request)).map(({ userId }) => userId)
  const profiles = await deps.contacts(tx, defaulted)
  const profileOf = (userId: string) => {
    const profile = profiles.get(userId)
    if (!profile) throw notFound('User')
    return profile
  }
  for (const [i, request] of requests.entries()) {
    const { userId, input, givenSealed, nowMs } = request
    try {
      const replayed = replays[i]
      if (replayed instanceof AppError) throw replayed
      if (replayed) {
        outcomes[i] = { value: replayed.body as OrderDto }
        continue
      }
      const profile = leavesDefaults(request) ? profileOf(userId) : undefined
      // The profile's address is copied as it is sealed (openAddress reads any of the keys).
      const shippingAddressSealed = givenSealed || profile?.addressSealed
      if (!shippingAddressSealed)
        throw new AppError(422, 'validation_failed', 'No shipping address in the request or on the profile', { errors: [{ field: 'shipping_address', message: 'Required: none on the profile' }] })
      const order = {
        orderId: newId(),
        userId,
        customerName: input.customer_name ?? profile!.name,
        shippingAddressSealed,
        paymentDueAt: isoAt(nowMs + deps.paymentCheckDelayMs),
        at: isoAt(nowMs),
      }
      toPlace.push({ i, order })
    } catch (error) {
      if (!(error instanceof AppError)) throw error
      outcomes[i] = { error }
    }
  }
  const placed = await placeCartOrders(
    tx,
    deps.lifecycle,
    toPlace.map(({ order }) => order),
  )
  const answers: { request: IdempotentRequest | null; response: { status: 201; body: OrderDto }; nowMs: number }[] = []
  for (const [j, { i, order }] of toPlace.entries()) {
    const result = placed[j]!
    if (result instanceof AppError) {
      outcomes[i] = { error: result }
      continue
    }
    const { given, request, nowMs } = requests[i]!
    // Answered from what was written, not read back; a copied address is opened once, for this answer.
    const dto = orderDto(result, given || openAddress(order.shippingAddressSealed, dataKeys))
    answers.push({ request, response: { status: 201, body: dto }, nowMs })
    outcomes[i] = { value: dto }
  }
  await idempotency.saveMany(tx, answers)
  return outcomes
}
