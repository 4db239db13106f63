import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { eq, sql } from 'drizzle-orm'
import { startShop, type TestShop } from './support/harness'
import { createProduct, createRegion } from './support/fixtures'
import { OrderLifecycle } from '../src/modules/orders/lifecycle'
import { ORDER_STATUS_CHANNEL, PAYMENT_CHECK_JOB, type OrderStatusEvent, type PlaceOrderInput } from '../src/modules/orders/lifecycle-types'
import { memoryEventBus } from '../src/infra/events/memory'
import { createLogger } from '../src/lib/logger'
import { orders, orderItems, orderTimeline } from '../src/modules/orders/schema'
import { jobs } from '../src/modules/jobs/schema'
import { products, stockMovements } from '../src/modules/catalog/schema'
import { moveStock } from '../src/modules/catalog'

let s: TestShop
let lifecycle: OrderLifecycle
const published: OrderStatusEvent[] = []
beforeAll(async () => {
  s = await startShop()
  const events = memoryEventBus()
  await events.subscribe(ORDER_STATUS_CHANNEL, (m) => published.push(m as OrderStatusEvent))
  lifecycle = new OrderLifecycle({ database: s.database, events, logger: createLogger('silent') })
})
afterAll(() => s.close())

const at = '2026-11-27T10:00:00.000Z'
const stockOf = async (id: string) => (await s.database.db.select({ stock: products.stock }).from(products).where(eq(products.id, id)).get())!.stock
const ledgerSum = async (id: string) =>
  (await s.database.db
    .select({ sum: sql<number>`sum(${stockMovements.delta})` })
    .from(stockMovements)
    .where(eq(stockMovements.productId, id))
    .get())!.sum
const settle = () => new Promise((resolve) => setTimeout(resolve, 10))

async function placed(source: PlaceOrderInput['source'], quantity = 2, stock = 5) {
  const region = await createRegion(s.database, { taxBps: 1000 })
  const product = await createProduct(s.database, region.id, stock, { price: 1999 })
  const user = await s.createUser()
  const id = await s.database.write(async (tx) => {
    if (source === 'cart') await moveStock(tx, { productId: product.id, delta: -quantity, reason: 'sale' }, at)
    const [order] = await lifecycle.placeOrders(
      tx,
      [
        {
          userId: user.id,
          source,
          regionId: region.id,
          currency: 'BRL',
          customerName: 'Ana',
          shippingAddressSealed: null,
          items: [{ productId: product.id, title: 'Thing', sku: product.sku, unitPrice: 1999, quantity }],
          pricesIncludeTax: source === 'flash_sale',
          taxBps: 1000,
          paymentDueAt: '2026-11-27T10:01:00.000Z',
        },
      ],
      at,
    )
    return order!.row.id
  })
  return { id, product, user }
}

describe('placeOrders', () => {
  test('writes the order, its items, its first timeline entry and the payment check; moves no stock', async () => {
    const { id, product } = await placed('cart', 2, 5)
    const order = (await s.database.db.select().from(orders).where(eq(orders.id, id)).get())!
    expect(order).toMatchObject({ status: 'pending_payment', source: 'cart', subtotal: 3998, tax: 400, total: 4398, paymentDueAt: '2026-11-27T10:01:00.000Z' })
    expect(await s.database.db.select().from(orderItems).where(eq(orderItems.orderId, id))).toEqual([
      { orderId: id, productId: product.id, title: 'Thing', sku: product.sku, unitPrice: 1999, quantity: 2, lineTotal: 3998 },
    ])
    expect((await s.database.db.select().from(orderTimeline).where(eq(orderTimeline.orderId, id))).map((e) => e.status)).toEqual(['pending_payment'])
    const job = (await s.database.db
      .select()
      .from(jobs)
      .where(eq(jobs.dedupeKey, `payment-check:${id}`))
      .get())!
    expect(job).toMatchObject({ kind: PAYMENT_CHECK_JOB, payload: { order_id: id }, runAt: Date.parse('2026-11-27T10:01:00.000Z') })
    expect(await stockOf(product.id)).toBe(3)
  })

  test('several orders at once: each with its own items, timeline and payment check, returned as stored', async () => {
    const region = await createRegion(s.database)
    const product = await createProduct(s.database, region.id, 0, { price: 500 })
    const buyers = [await s.createUser(), await s.createUser(), await s.createUser()]
    const returned = await s.database.write((tx) =>
      lifecycle.placeOrders(
        tx,
        buyers.map((buyer, i) => ({
          userId: buyer.id,
          source: 'flash_sale' as const,
          regionId: region.id,
          currency: 'BRL',
          customerName: `Buyer ${i}`,
          shippingAddressSealed: null,
          items: [{ productId: product.id, title: 'Thing', sku: product.sku, unitPrice: 500, quantity: i + 1 }],
          pricesIncludeTax: true,
          taxBps: 0,
          paymentDueAt: '2026-11-27T10:01:00.000Z',
        })),
        at,
      ),
    )
    expect(returned.map((o) => o.row.userId)).toEqual(buyers.map((b) => b.id))
    for (const [i, { row, items }] of returned.entries()) {
      expect(await s.database.db.select().from(orders).where(eq(orders.id, row.id)).get()).toEqual(row)
      expect(await s.database.db.select().from(orderItems).where(eq(orderItems.orderId, row.id))).toEqual(items)
      expect(items.map((item) => item.quantity)).toEqual([i + 1])
      expect((await s.database.db.select().from(orderTimeline).where(eq(orderTimeline.orderId, row.id))).map((e) => e.status)).toEqual(['pending_payment'])
      expect(
        await s.database.db
          .select()
          .from(jobs)
          .where(eq(jobs.dedupeKey, `payment-check:${row.id}`))
          .get(),
      ).toBeDefined()
    }
  })

  test('tax-included prices: the total is the subtotal and the tax is the part it contains', async () => {
    const { id } = await placed('flash_sale', 1)
    expect(await s.database.db.select({ subtotal: orders.subtotal, tax: orders.tax, total: orders.total }).from(orders).where(eq(orders.id, id)).get()).toEqual({
      subtotal: 1999,
      tax: 182,
      total: 1999,
    })
  })
})

describe('transitions', () => {
  test('cancelling a cart order returns its stock with ledger rows and publishes after commit', async () => {
    const { id, product } = await placed('cart', 2, 5)
    published.length = 0
    const change = await lifecycle.write((tx, transition) => transition(id, 'cancelled', at))
    expect(change).toMatchObject({ order_id: id, status: 'cancelled', source: 'cart' })
    expect(await stockOf(product.id)).toBe(5)
    expect(await ledgerSum(product.id)).toBe(5)
    await settle()
    expect(published).toEqual([change])
  })

  test('a move the table does not allow answers invalid_transition and changes nothing', async () => {
    const { id } = await placed('cart')
    await lifecycle.write((tx, transition) => transition(id, 'unpaid', at))
    for (const to of ['paid', 'cancelled', 'shipped', 'pending_payment'] as const) {
      const error = await lifecycle.write((tx, transition) => transition(id, to, at)).catch((e) => e)
      expect(error.code).toBe('invalid_transition')
    }
    expect((await s.database.db.select().from(orderTimeline).where(eq(orderTimeline.orderId, id))).map((e) => e.status)).toEqual(['pending_payment', 'unpaid'])
  })

  test('an unknown order is not_found', async () => {
    const error = await lifecycle.write((tx, transition) => transition('nope', 'paid', at)).catch((e) => e)
    expect(error.code).toBe('not_found')
  })

  test('a flash-sale order is released by the handler its module registered, inside the same transaction', async () => {
    const { id, product } = await placed('flash_sale', 1)
    const seen: unknown[] = []
    lifecycle.onRelease('flash_sale', async (tx, order) => {
      seen.push(order)
      throw new Error('waitlist unavailable')
    })
    await expect(lifecycle.write((tx, transition) => transition(id, 'unpaid', at))).rejects.toThrow('waitlist unavailable')
    expect(seen).toEqual([{ id, userId: expect.any(String), source: 'flash_sale', status: 'unpaid', from: 'pending_payment', items: [{ productId: product.id, quantity: 1 }] }])
    // The handler failed, so the status change rolled back with it.
    expect((await s.database.db.select().from(orders).where(eq(orders.id, id)).get())!.status).toBe('pending_payment')
  })

  test('a transaction that fails after a transition publishes nothing', async () => {
    const { id } = await placed('cart')
    published.length = 0
    await expect(
      lifecycle.write(async (tx, transition) => {
        await transition(id, 'cancelled', at)
        throw new Error('later step failed')
      }),
    ).rejects.toThrow('later step failed')
    await settle()
    expect(published).toEqual([])
    expect((await s.database.db.select().from(orders).where(eq(orders.id, id)).get())!.status).toBe('pending_payment')
  })
})

test('a write answered at its commit (detach) publishes its events before a later write publishes its own: one order’s live events stay in id order', async () => {
  // A bus with a Redis-like round trip: each publish is acknowledged 5 ms after it was sent, in the order sent.
  const sent: OrderStatusEvent[] = []
  const slowBus = { ...memoryEventBus(), publish: async (_channel: string, message: unknown) => void (sent.push(message as OrderStatusEvent), await Bun.sleep(5)) }
  const slow = new OrderLifecycle({ database: s.database, events: slowBus, logger: createLogger('silent') })
  const [first, second] = [await placed('flash_sale'), await placed('flash_sale')]
  // A webhook batch noting two orders, answered at its commit; then what that answer lets happen: a later write for the second order.
  await slow.write(
    async (_tx, _transition, moves) => {
      await moves.note(first.id, 'payment_voided', 'p1', at)
      await moves.note(second.id, 'payment_voided', 'p2', at)
    },
    { detach: true },
  )
  await slow.write(async (_tx, _transition, moves) => moves.note(second.id, 'payment_refunded', 'p2', at))
  await slow.settled()
  const ids = sent.filter((event) => event.order_id === second.id).map((event) => event.event_id)
  expect(ids).toHaveLength(2)
  expect(ids).toEqual(ids.toSorted((a, b) => a - b))
})
