import { and, asc, desc, eq, gte, inArray, isNull, lt, notInArray, or, sql, type SQL } from 'drizzle-orm'
import { prepared, type Database, type Queryable, type Tx } from '../../db/client'
import { writeBatches } from '../../db/write-batches'
import { isoAt, type Clock } from '../../lib/clock'
import type { DataKey } from '../../lib/crypto'
import { AppError, conflict, forbidden, invalid, notFound } from '../../lib/errors'
import { parseDateTime } from '../../lib/date-time'
import { containsIgnoringCase } from '../../lib/text'
import { DEFAULT_PAGE_SIZE, cursorAfter, isStringKey, pageOf } from '../../lib/pages'
import type { Principal, Role } from '../../lib/access-tokens'
import { accountIdsByEmail, checkAddress, openAddress, sealAddress, type AddressInput } from '../accounts'
import { checkoutGroup, type CheckoutRequest } from './checkout'
import { orderDto } from './order-dto'
import type { Idempotency } from '../idempotency'
import type { OrderLifecycle } from './lifecycle'
import { AWAITING_DELIVERY } from './state-machine'
import type { OrderRow } from './lifecycle-types'
import type { OrderTracking } from './tracking'
import type { CheckoutInput, OrderDto, OrdersQueryInput, PatchOrderInput, RefundInput } from './model'
import { orderItems, orders, orderTimeline, type OrderStatus } from './schema'

/** Statuses an admin may set by hand; `paid` only ever comes from a verified gateway event, `unpaid` from the payment check. */
const ADMIN_SETTABLE: readonly OrderStatus[] = ['shipped', 'delivered', 'cancelled']

const orderById = prepared((q) =>
  q
    .select()
    .from(orders)
    .where(eq(orders.id, sql.placeholder('id')))
    .prepare(),
)

/** Who is asking: the owner sees their orders, an admin (roles re-read from the database) sees all. */
export interface Viewer {
  id: string
  admin: boolean
}

export interface OrdersDeps {
  database: Database
  clock: Clock
  dataKeys: DataKey[]
  lifecycle: OrderLifecycle
  tracking: OrderTracking
  idempotency: Idempotency
  paymentCheckDelayMs: number
  /** Live profiles' names and sealed addresses by user id, the defaults of a checkout, read in the caller's transaction. */
  contacts(q: Queryable, userIds: string[]): Promise<Map<string, { name: string; addressSealed: string | null }>>
  currentRoles(userId: string): Promise<Role[] | null>
}

/**
 * Keeps orders after an account is erased, without the personal data they copied; an order
 * paid and not yet delivered keeps its address until it is delivered or refunded (the
 * lifecycle drops it then), or it could not be shipped.
 */
export async function eraseOrderPersonalData(tx: Tx, userId: string) {
  await tx.update(orders).set({ customerName: '' }).where(eq(orders.userId, userId))
  await tx
    .update(orders)
    .set({ shippingAddressSealed: null })
    .where(and(eq(orders.userId, userId), notInArray(orders.status, [...AWAITING_DELIVERY])))
}

/** A query's date-time as stored (`created_at` is ISO 8601 in UTC, so text order is time order). */
function instant(text: string, field: string) {
  const at = parseDateTime(text)
  if (at === null) throw invalid([{ field, message: 'Must be an RFC 3339 date-time, like 2030-01-02T10:00:00Z' }])
  return isoAt(at)
}

/** The customer's name on the order or their account's email contains `q`, in any letter case. */
function customerMatches(q: string) {
  return or(sql`${orders.customerName} GLOB ${containsIgnoringCase(q.trim())}`, inArray(orders.userId, accountIdsByEmail(q)))
}

export class OrdersService {
  /** Checkouts queued while the writer was busy, written together (`placeCartOrders`); one per customer in a batch. */
  private readonly checkouts: (request: CheckoutRequest) => Promise<OrderDto>

  constructor(private readonly deps: OrdersDeps) {
    this.checkouts = writeBatches(
      deps.database.write,
      (tx, requests) => checkoutGroup(tx, deps, requests),
      (request) => request.userId,
    )
  }

  /** Admin rights are re-read from the database: a token's roles are not trusted for them. */
  async viewer(user: Principal): Promise<Viewer> {
    const admin = user.roles.includes('admin') && Boolean((await this.deps.currentRoles(user.id))?.includes('admin'))
    return { id: user.id, admin }
  }

  async checkout(userId: string, input: CheckoutInput, idempotencyKey?: string): Promise<OrderDto> {
    const { dataKeys, idempotency, clock } = this.deps
    const given = input.shipping_address ? checkAddress(input.shipping_address, 'shipping_address') : undefined
    // Sealed before the write lock is taken; one crypto operation per order either way (see checkoutGroup).
    const nowMs = clock.now()
    return this.checkouts({
      userId,
      input,
      given,
      givenSealed: given && sealAddress(given, dataKeys),
      request: idempotencyKey === undefined ? null : idempotency.request(userId, idempotencyKey, 'POST /v1/orders', input),
      nowMs,
    })
  }

  async list(user: Principal, query: OrdersQueryInput) {
    const viewer = await this.viewer(user)
    const limit = query.limit ?? DEFAULT_PAGE_SIZE
    const after = cursorAfter(query.cursor, isStringKey)
    const userId = viewer.admin ? query.user_id : viewer.id
    const filters = [
      userId && eq(orders.userId, userId),
      query.status && eq(orders.status, query.status),
      query.source && eq(orders.source, query.source),
      query.from && gte(orders.createdAt, instant(query.from, 'from')),
      query.to && lt(orders.createdAt, instant(query.to, 'to')),
      query.q && customerMatches(query.q),
      after && lt(orders.id, after),
    ].filter(Boolean) as SQL[]
    const { db } = this.deps.database
    const rows = await db
      .select()
      .from(orders)
      .where(and(...filters))
      .orderBy(desc(orders.id))
      .limit(limit + 1)
    const dtos = await this.dtos(db, rows.slice(0, limit))
    return pageOf(
      rows,
      limit,
      (row) => row.id,
      (row) => dtos.get(row.id)!,
    )
  }

  async get(user: Principal, id: string) {
    const { db } = this.deps.database
    return this.dto(db, await this.visible(await this.viewer(user), id))
  }

  /** 404 for an order that is not the viewer's (ids cannot be probed). */
  async visible(viewer: Viewer, id: string): Promise<OrderRow> {
    const row = await orderById(this.deps.database.db).get({ id })
    if (!row || (!viewer.admin && row.userId !== viewer.id)) throw notFound('Order')
    return row
  }

  async update(user: Principal, id: string, patch: PatchOrderInput) {
    const viewer = await this.viewer(user)
    const order = await this.visible(viewer, id)
    if (patch.status !== undefined && !viewer.admin) throw forbidden('Only an admin sets the status of an order')
    if (patch.shipping_address && order.userId !== viewer.id) throw forbidden('Only the customer changes the shipping address')
    if (patch.status !== undefined && !ADMIN_SETTABLE.includes(patch.status)) {
      throw new AppError(409, 'invalid_transition', `An admin cannot set ${patch.status}: it comes from payments (POST /v1/orders/{id}/refund refunds)`)
    }
    const at = this.deps.clock.iso()
    await this.deps.lifecycle.write(async (tx, transition) => {
      if (patch.shipping_address) await this.changeAddress(tx, id, checkAddress(patch.shipping_address, 'shipping_address'), at)
      if (patch.status !== undefined) await transition(id, patch.status, at)
    })
    return this.get(user, id)
  }

  /**
   * Cancels an order awaiting payment; its units are released (back to stock, or the flash
   * sale's). The owner may also take back a paid order that has not shipped: it is refunded.
   * Decided on the status read in the transaction, so an order shipped meanwhile is not refunded.
   */
  async cancel(user: Principal, id: string) {
    const viewer = await this.viewer(user)
    const order = await this.visible(viewer, id)
    const at = this.deps.clock.iso()
    await this.deps.lifecycle.write(async (tx, transition) => {
      const current = await orderById(tx).get({ id })
      if (current?.status === 'paid' && order.userId === viewer.id) await transition(id, 'refunded', at, { reason: 'cancelled by the customer before shipping' })
      else await transition(id, 'cancelled', at)
    })
    return this.get(user, id)
  }

  /** An admin's refund of a paid, shipped or delivered order: the payment back through the gateway, the units back when unshipped or asked for. */
  async refund(user: Principal, id: string, input: RefundInput) {
    const viewer = await this.viewer(user)
    if (!viewer.admin) throw forbidden('Only an admin refunds an order')
    await this.visible(viewer, id)
    const at = this.deps.clock.iso()
    await this.deps.lifecycle.write((_tx, transition) => transition(id, 'refunded', at, { restock: input.restock ?? false, reason: input.reason }))
    return this.get(user, id)
  }

  /** The order's status stream, or null when it has ended (see OrderTracking.open). */
  async track(user: Principal, id: string, lastEventId?: string) {
    await this.visible(await this.viewer(user), id)
    return this.deps.tracking.open(id, lastEventId === undefined ? undefined : Number(lastEventId))
  }

  /** While the order awaits payment; after, only to give an address to a paid order that has none (one paid before payments required it). */
  private async changeAddress(tx: Tx, id: string, address: AddressInput, at: string) {
    const changed = await tx
      .update(orders)
      .set({ shippingAddressSealed: sealAddress(address, this.deps.dataKeys), updatedAt: at })
      .where(and(eq(orders.id, id), or(eq(orders.status, 'pending_payment'), and(eq(orders.status, 'paid'), isNull(orders.shippingAddressSealed)))))
      .returning({ id: orders.id })
    if (!changed.length) throw conflict('The shipping address can only change while the order awaits payment')
  }

  async dto(q: Queryable, row: OrderRow): Promise<OrderDto> {
    return (await this.dtos(q, [row])).get(row.id)!
  }

  /** Orders with their items (in the order they were written: the cart's) and timelines, in two queries for the whole page. */
  private async dtos(q: Queryable, rows: OrderRow[]): Promise<Map<string, OrderDto>> {
    const ids = rows.map((row) => row.id)
    const items = ids.length ? await q.select().from(orderItems).where(inArray(orderItems.orderId, ids)).orderBy(asc(orderItems.orderId), sql`${orderItems}.rowid`) : []
    const timeline = ids.length ? await q.select().from(orderTimeline).where(inArray(orderTimeline.orderId, ids)).orderBy(asc(orderTimeline.id)) : []
    return new Map(
      rows.map((row) => [
        row.id,
        orderDto(
          {
            row,
            items: items.filter((item) => item.orderId === row.id),
            timeline: timeline.filter((entry) => entry.orderId === row.id),
          },
          row.shippingAddressSealed ? openAddress(row.shippingAddressSealed, this.deps.dataKeys) : null,
        ),
      ]),
    )
  }
}
