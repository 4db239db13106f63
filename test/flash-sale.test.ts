import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { ManualClock } from '../src/lib/clock'
import { sha256Hex } from '../src/lib/crypto'
import { products } from '../src/modules/catalog/schema'
import { orderItems, orders } from '../src/modules/orders/schema'
import { flashSaleDrops } from '../src/modules/flash-sale/schema'
import { seedDemo } from '../src/seed-data'
import { startShop, type TestShop } from './support/harness'
import { testRedis } from './support/redis'
import { allocated, createDrop, entriesOf, ledgerOf, PAYMENT_WINDOW_SECONDS, type DropSetup } from './support/flash-sale'

const HOUR = 3600_000

describe.each(['memory', 'redis'] as const)('flash sale (%s queue)', (mode) => {
  const clock = new ManualClock()
  let s: TestShop
  let cleanup = async () => {}
  beforeAll(async () => {
    const redis = mode === 'redis' ? await testRedis() : undefined
    if (redis) cleanup = redis.cleanup
    s = await startShop({ clock, redis })
  })
  afterAll(async () => {
    await s.close()
    await cleanup()
  })

  const tick = () => s.shop.services.flashSale.scheduler.tick()
  const enter = (dropId: string, token: string) => s.request('POST', `/v1/flash-sales/drops/${dropId}/entries`, { token })
  const mine = (dropId: string, token: string) => s.request('GET', `/v1/flash-sales/drops/${dropId}/entries/me`, { token })
  const customers = (n: number) => Promise.all(Array.from({ length: n }, () => s.createUser()))
  /** Opens the drop, lets `buyers` enter one after the other, waits for the allocator. */
  async function runDrop(dropId: string, buyers: { token: string }[]) {
    await tick()
    for (const buyer of buyers) expect((await enter(dropId, buyer.token)).status).toBe(202)
    await allocated(s, dropId, buyers.length)
  }
  const closeDrop = async () => {
    clock.advance(HOUR)
    await tick()
  }
  const moveOrder = (to: 'unpaid' | 'paid' | 'cancelled') => (orderId: string) => s.shop.services.orderLifecycle.write((tx, transition) => transition(orderId, to, clock.iso()))
  const expire = moveOrder('unpaid')
  const pay = moveOrder('paid')
  const auditOf = async (dropId: string) => {
    const res = await s.request('GET', `/v1/flash-sales/drops/${dropId}/audit`)
    expect(res.status).toBe(200)
    return { final: res.body.final as boolean, entries: res.body.entries.map((e: { seq: number; outcome: string }) => [e.seq, e.outcome]) }
  }
  const dropOf = async (campaignId: string) => (await s.request('GET', `/v1/flash-sales/${campaignId}`)).body.drops[0]
  const outcomes = async (dropId: string) => (await entriesOf(s, dropId)).map((e) => e.outcome)
  const deltas = async (productId: string, dropId: string) => (await ledgerOf(s, productId, dropId)).map((m) => m.delta)
  /** A drop `buyers` entered and that closed with every entry decided. */
  async function closedDrop(setup: DropSetup, buyers: number) {
    const { dropId, product } = await createDrop(s, setup)
    const entered = await customers(buyers)
    await runDrop(dropId, entered)
    await closeDrop()
    return { dropId, productId: product.id, buyers: entered, rows: await entriesOf(s, dropId) }
  }

  describe('campaigns (admin)', () => {
    test('creating schedules every drop; anyone can read it', async () => {
      const { product, admin } = await createDrop(s)
      const body = {
        product_id: product.id,
        price: 100,
        units_per_drop: 100,
        drop_count: 24,
        interval_seconds: 3600,
        starts_at: new Date(clock.now() + HOUR).toISOString(),
        per_customer_limit: 1,
        payment_window_seconds: 600,
      }
      const res = await s.request('POST', '/v1/flash-sales', { token: admin.token, body })
      expect(res.status).toBe(201)
      expect(res.body).toMatchObject({ product_id: product.id, price: 100, currency: 'BRL', waitlist_size: 100, units_per_drop: 100, drop_count: 24 })
      expect(res.body.drops).toHaveLength(24)
      expect(res.body.drops[0]).toEqual({
        id: expect.any(String),
        opens_at: body.starts_at,
        closes_at: new Date(clock.now() + 2 * HOUR).toISOString(),
        units: 100,
        price: 100,
        status: 'scheduled',
        units_left: 100,
      })
      expect(res.body.drops[23].closes_at).toBe(new Date(clock.now() + 25 * HOUR).toISOString())
      const one = await s.request('GET', `/v1/flash-sales/${res.body.id}`)
      expect(one.status).toBe(200)
      expect(one.body).toEqual(res.body)
      const list = await s.request('GET', '/v1/flash-sales?limit=1')
      expect(list.body.data[0].id).toBe(res.body.id)
      const next = await s.request('GET', `/v1/flash-sales?limit=1&cursor=${list.body.next_cursor}`)
      expect(next.body.data[0].id < res.body.id).toBe(true)
      expect((await s.request('GET', '/v1/flash-sales/nope')).status).toBe(404)
    })

    test('only admins create; bad bodies answer 422, an unknown product 404', async () => {
      const { product, admin } = await createDrop(s)
      const customer = await s.createUser()
      const body = { product_id: product.id, price: 100, units_per_drop: 5, drop_count: 1, interval_seconds: 60, starts_at: clock.iso(), per_customer_limit: 1, payment_window_seconds: 60 }
      expect((await s.request('POST', '/v1/flash-sales', { body })).status).toBe(401)
      expect((await s.request('POST', '/v1/flash-sales', { token: customer.token, body })).status).toBe(403)
      for (const bad of [
        { per_customer_limit: 2 },
        { price: -1 },
        { price: 1.5 },
        { units_per_drop: 0 },
        { starts_at: 'tomorrow' },
        { stock: 5 },
        { starts_at: new Date(clock.now() - HOUR).toISOString() },
      ]) {
        const res = await s.request('POST', '/v1/flash-sales', { token: admin.token, body: { ...body, ...bad } })
        expect(res.status).toBe(422)
        expect(res.body.code).toBe('validation_failed')
      }
      expect((await s.request('POST', '/v1/flash-sales', { token: admin.token, body: { ...body, product_id: 'nope' } })).status).toBe(404)
    })

    test('starts_at is a full RFC 3339 date-time that exists, every drop ends before 9999, numbers are bounded; nothing is saved otherwise', async () => {
      const { product, admin } = await createDrop(s)
      const before = (await s.request('GET', '/v1/flash-sales?limit=100')).body.data.length
      const body = { product_id: product.id, price: 100, units_per_drop: 5, drop_count: 1, interval_seconds: 60, starts_at: '2030-01-02T10:00:00Z', per_customer_limit: 1, payment_window_seconds: 60 }
      const WEEK = 7 * 24 * 3600
      const bad: [Record<string, unknown>, string][] = [
        [{ starts_at: '+275760-09-13T00:00:00Z' }, 'starts_at'],
        [{ starts_at: '2030-02-30T00:00:00Z' }, 'starts_at'],
        [{ starts_at: '2030-01-02' }, 'starts_at'],
        [{ starts_at: '2030-01-02T10:00Z' }, 'starts_at'],
        [{ starts_at: '2030-01-02T24:00:00Z' }, 'starts_at'],
        [{ starts_at: '2030-01-02 10:00:00Z' }, 'starts_at'],
        [{ starts_at: '2030-01-02T10:00:00+25:00' }, 'starts_at'],
        [{ starts_at: '9998-12-01T00:00:00Z', drop_count: 1000, interval_seconds: WEEK }, 'starts_at'],
        [{ price: 1_000_000_000_001 }, 'price'],
        [{ units_per_drop: 100_001 }, 'units_per_drop'],
        [{ drop_count: 1001 }, 'drop_count'],
        [{ interval_seconds: WEEK + 1 }, 'interval_seconds'],
        [{ payment_window_seconds: WEEK + 1 }, 'payment_window_seconds'],
        [{ waitlist_size: 100_001 }, 'waitlist_size'],
      ]
      for (const [change, field] of bad) {
        const res = await s.request('POST', '/v1/flash-sales', { token: admin.token, body: { ...body, ...change } })
        expect({ change, status: res.status, code: res.body.code }).toEqual({ change, status: 422, code: 'validation_failed' })
        expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field)
      }
      const list = await s.request('GET', '/v1/flash-sales?limit=100')
      expect(list.status).toBe(200)
      expect(list.body.data).toHaveLength(before)
      // An offset is fine: the time is the same instant, answered in UTC.
      const offset = await s.request('POST', '/v1/flash-sales', { token: admin.token, body: { ...body, starts_at: '2030-01-02T10:00:00.5-03:00' } })
      expect(offset.status).toBe(201)
      expect(offset.body.starts_at).toBe('2030-01-02T13:00:00.500Z')
    })
  })

  describe('entries', () => {
    test('before opening: 409 drop_not_open with opens_at; unknown drop 404; customers only', async () => {
      const { dropId, campaign } = await createDrop(s, { startsAt: clock.now() + HOUR })
      const [buyer] = await customers(1)
      const res = await enter(dropId, buyer!.token)
      expect(res.status).toBe(409)
      expect(res.body).toMatchObject({ code: 'drop_not_open', opens_at: campaign.drops[0].opens_at })
      expect((await enter('no-such-drop', buyer!.token)).status).toBe(404)
      expect((await s.request('POST', `/v1/flash-sales/drops/${dropId}/entries`)).status).toBe(401)
      const admin = await s.createUser(['admin'])
      expect((await enter(dropId, admin.token)).status).toBe(403)
      expect((await mine(dropId, buyer!.token)).status).toBe(404)
    })

    test('opening reserves the units in the ledger; a winner gets a flash_sale order at the campaign price', async () => {
      const { dropId, product } = await createDrop(s, { units: 3, stock: 10 })
      await tick()
      expect(await ledgerOf(s, product.id, dropId)).toMatchObject([{ delta: -3, reason: 'flash_sale_reserve', stockAfter: 7 }])
      const [buyer] = await customers(1)
      const first = await enter(dropId, buyer!.token)
      expect(first.status).toBe(202)
      expect(first.body).toEqual({ entry_id: expect.any(String), seq: 1, status: 'queued' })
      const again = await enter(dropId, buyer!.token)
      expect(again.status).toBe(200)
      expect(again.body.entry_id).toBe(first.body.entry_id)
      await allocated(s, dropId, 1)
      const me = await mine(dropId, buyer!.token)
      expect(me.status).toBe(200)
      expect(me.body).toEqual({ entry_id: first.body.entry_id, seq: 1, status: 'won', order_id: expect.any(String), pay_by: new Date(clock.now() + PAYMENT_WINDOW_SECONDS * 1000).toISOString() })
      const order = await s.database.db.select().from(orders).where(eq(orders.id, me.body.order_id)).get()
      expect(order).toMatchObject({ userId: buyer!.id, status: 'pending_payment', source: 'flash_sale', total: 100, pricesIncludeTax: true, paymentDueAt: me.body.pay_by })
      expect(await s.database.db.select().from(orderItems).where(eq(orderItems.orderId, me.body.order_id))).toMatchObject([{ productId: product.id, unitPrice: 100, quantity: 1 }])
      const campaign = await s.request('GET', `/v1/flash-sales/${(await s.database.db.select().from(flashSaleDrops).where(eq(flashSaleDrops.id, dropId)).get())!.campaignId}`)
      expect(campaign.body.drops[0]).toMatchObject({ status: 'open', units: 3, units_left: 2 })
      // Closing returns the two units nobody won.
      await closeDrop()
      expect((await ledgerOf(s, product.id, dropId)).map((m) => [m.delta, m.reason])).toEqual([
        [-3, 'flash_sale_reserve'],
        [2, 'flash_sale_return'],
      ])
      expect((await s.database.db.select().from(products).where(eq(products.id, product.id)).get())!.stock).toBe(9)
      expect((await enter(dropId, buyer!.token)).body.code).toBe('drop_not_open')
    })

    test('units + waitlist accepted, then sold_out at once; a repeat still answers its entry', async () => {
      const { dropId } = await createDrop(s, { units: 2, waitlist: 2 })
      await tick()
      const buyers = await customers(6)
      const answers = []
      for (const buyer of buyers) answers.push(await enter(dropId, buyer.token))
      expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 409, 409])
      expect(answers[4]!.body.code).toBe('sold_out')
      expect(answers.slice(0, 4).map((a) => a.body.seq)).toEqual([1, 2, 3, 4])
      expect((await enter(dropId, buyers[3]!.token)).status).toBe(200)
      await allocated(s, dropId, 4)
      expect((await entriesOf(s, dropId)).map((e) => e.outcome)).toEqual(['won', 'won', 'waitlisted', 'waitlisted'])
      expect((await mine(dropId, buyers[2]!.token)).body).toMatchObject({ seq: 3, status: 'waitlisted' })
      expect((await mine(dropId, buyers[5]!.token)).status).toBe(404)
      const metrics = (await s.request('GET', '/metrics')).body as string
      expect(metrics).toMatch(/^flash_sale_entries_total\{result="sold_out"\} [1-9]/m)
      expect(metrics).toMatch(/^flash_sale_allocations_total\{outcome="waitlisted"\} [1-9]/m)
      expect(metrics).toMatch(/^flash_sale_allocation_latency_seconds_count [1-9]/m)
      expect(metrics).toContain(`flash_sale_queue_depth{drop_id="${dropId}"} 0`)
    })

    test('short stock: the drop opens with what there is; none at all is sold out at once', async () => {
      const short = await createDrop(s, { units: 5, stock: 2 })
      const none = await createDrop(s, { units: 5, stock: 0 })
      await tick()
      expect(await ledgerOf(s, short.product.id, short.dropId)).toMatchObject([{ delta: -2, reason: 'flash_sale_reserve', stockAfter: 0 }])
      expect(await ledgerOf(s, none.product.id, none.dropId)).toEqual([])
      const buyers = await customers(3)
      for (const buyer of buyers) expect((await enter(short.dropId, buyer.token)).status).toBe(202)
      expect((await enter(none.dropId, buyers[0]!.token)).body.code).toBe('sold_out')
      await allocated(s, short.dropId, 3)
      expect((await entriesOf(s, short.dropId)).map((e) => e.outcome)).toEqual(['won', 'won', 'waitlisted'])
      const campaign = await s.request('GET', `/v1/flash-sales/${short.campaign.id}`)
      expect(campaign.body.drops[0]).toMatchObject({ units: 2, units_left: 0 })
    })

    test('the hot path reads and writes no SQL once the drop is known', async () => {
      const { dropId } = await createDrop(s, { units: 5 })
      await tick()
      const [buyer, other] = await customers(2)
      const { database } = s
      const realDb = database.db
      const realWrite = database.write
      const refuse = () => {
        throw new Error('SQL on the hot path')
      }
      Object.defineProperty(database, 'db', { get: refuse, configurable: true })
      Object.defineProperty(database, 'write', { value: refuse, configurable: true, writable: true })
      try {
        expect((await enter(dropId, buyer!.token)).status).toBe(202)
        expect((await enter(dropId, buyer!.token)).status).toBe(200)
        expect((await enter(dropId, other!.token)).status).toBe(202)
      } finally {
        Object.defineProperty(database, 'db', { value: realDb, configurable: true, writable: false })
        Object.defineProperty(database, 'write', { value: realWrite, configurable: true, writable: true })
      }
      await allocated(s, dropId, 2)
    })

    test('prepared just before opens_at: the clock alone lets entries in at opens_at and out at closes_at; the status follows it', async () => {
      const { dropId, product, campaign } = await createDrop(s, { units: 1, waitlist: 1, startsAt: clock.now() + 2_000 })
      await tick()
      expect(await ledgerOf(s, product.id, dropId)).toMatchObject([{ delta: -1, reason: 'flash_sale_reserve' }])
      const [early, onTime, late] = await customers(3)
      expect((await enter(dropId, early!.token)).body.code).toBe('drop_not_open')
      expect(await dropOf(campaign.id)).toMatchObject({ status: 'scheduled', units: 1, units_left: 1 })
      // No scheduler tick from here on.
      clock.advance(2_000)
      expect(await dropOf(campaign.id)).toMatchObject({ status: 'open', units_left: 1 })
      const entered = await enter(dropId, onTime!.token)
      expect(entered.status).toBe(202)
      expect(entered.body.seq).toBe(1)
      await allocated(s, dropId, 1)
      clock.advance(HOUR)
      expect((await enter(dropId, late!.token)).body.code).toBe('drop_not_open')
      expect(await dropOf(campaign.id)).toMatchObject({ status: 'closed', units_left: 0 })
      await tick()
      expect(await auditOf(dropId)).toEqual({ final: false, entries: [[1, 'won']] })
    })

    test('a drop inside its window that no scheduler has prepared yet answers 503 with Retry-After, not drop_not_open', async () => {
      const { dropId } = await createDrop(s, { units: 1 })
      const [buyer] = await customers(1)
      const res = await enter(dropId, buyer!.token)
      expect(res.status).toBe(503)
      expect(res.body.code).toBe('service_unavailable')
      expect(res.headers.get('retry-after')).toBe('1')
      await tick()
      expect((await enter(dropId, buyer!.token)).status).toBe(202)
      await allocated(s, dropId, 1)
    })
  })

  describe('expiry and the waitlist', () => {
    test('an unpaid winner passes the unit to the first waitlisted entry, in seq order', async () => {
      const { dropId, product } = await createDrop(s, { units: 2, waitlist: 3 })
      const buyers = await customers(5)
      await runDrop(dropId, buyers)
      let rows = await entriesOf(s, dropId)
      expect(rows.map((e) => e.outcome)).toEqual(['won', 'won', 'waitlisted', 'waitlisted', 'waitlisted'])
      // The second winner does not pay: seq 3 gets the unit with an order of its own.
      clock.advance(60_000)
      await expire(rows[1]!.orderId!)
      rows = await entriesOf(s, dropId)
      expect(rows.map((e) => e.outcome)).toEqual(['won', 'expired', 'won', 'waitlisted', 'waitlisted'])
      expect(rows[2]!.orderId).toBeString()
      expect(rows[2]!.payBy).toBe(new Date(clock.now() + PAYMENT_WINDOW_SECONDS * 1000).toISOString())
      const me = await mine(dropId, buyers[2]!.token)
      expect(me.body).toMatchObject({ seq: 3, status: 'won', order_id: rows[2]!.orderId })
      expect((await mine(dropId, buyers[1]!.token)).body.status).toBe('expired')
      // Then the first winner: seq 4 is next.
      await expire(rows[0]!.orderId!)
      rows = await entriesOf(s, dropId)
      expect(rows.map((e) => e.outcome)).toEqual(['expired', 'expired', 'won', 'won', 'waitlisted'])
      expect((await ledgerOf(s, product.id, dropId)).map((m) => m.delta)).toEqual([-2])
    })

    test('after the close the waitlist waits for the winners: an unpaid one still passes the unit down; once all have paid, the rest is lost', async () => {
      const { dropId, productId, buyers, rows: closed } = await closedDrop({ units: 2, waitlist: 3 }, 5)
      expect(closed.map((e) => e.outcome)).toEqual(['won', 'won', 'waitlisted', 'waitlisted', 'waitlisted'])
      expect(await deltas(productId, dropId)).toEqual([-2])
      // The audit holds back the entries that may still win.
      expect(await auditOf(dropId)).toEqual({
        final: false,
        entries: [
          [1, 'won'],
          [2, 'won'],
        ],
      })
      clock.advance(60_000)
      await expire(closed[0]!.orderId!)
      const rows = await entriesOf(s, dropId)
      expect(rows.map((e) => e.outcome)).toEqual(['expired', 'won', 'won', 'waitlisted', 'waitlisted'])
      expect(rows[2]!.payBy).toBe(new Date(clock.now() + PAYMENT_WINDOW_SECONDS * 1000).toISOString())
      expect((await mine(dropId, buyers[2]!.token)).body).toMatchObject({ seq: 3, status: 'won', order_id: rows[2]!.orderId })
      // One winner pays: another may still not, so the waitlist keeps waiting.
      await pay(rows[1]!.orderId!)
      await tick()
      expect(await outcomes(dropId)).toEqual(['expired', 'won', 'won', 'waitlisted', 'waitlisted'])
      // The last one pays: nobody can give a unit back any more.
      await pay(rows[2]!.orderId!)
      await tick()
      expect(await outcomes(dropId)).toEqual(['expired', 'won', 'won', 'lost', 'lost'])
      expect((await mine(dropId, buyers[4]!.token)).body.status).toBe('lost')
      expect(await auditOf(dropId)).toEqual({
        final: true,
        entries: [
          [1, 'expired'],
          [2, 'won'],
          [3, 'won'],
          [4, 'lost'],
          [5, 'lost'],
        ],
      })
      expect(await deltas(productId, dropId)).toEqual([-2])
    })

    test('after the close, a unit nobody is waiting for goes back to stock as its winner lets it go', async () => {
      const { dropId, productId, buyers, rows: closed } = await closedDrop({ units: 2, waitlist: 1 }, 3)
      await expire(closed[0]!.orderId!)
      const rows = await entriesOf(s, dropId)
      expect(rows.map((e) => e.outcome)).toEqual(['expired', 'won', 'won'])
      expect(await deltas(productId, dropId)).toEqual([-2])
      // The promoted winner does not pay either: nobody is left waiting, the unit returns.
      await expire(rows[2]!.orderId!)
      expect((await ledgerOf(s, productId, dropId)).map((m) => [m.delta, m.reason])).toEqual([
        [-2, 'flash_sale_reserve'],
        [1, 'flash_sale_return'],
      ])
      expect(await auditOf(dropId)).toEqual({
        final: false,
        entries: [
          [1, 'expired'],
          [2, 'won'],
          [3, 'expired'],
        ],
      })
      // The last winner cancels: final, and that unit returns too.
      expect((await s.request('DELETE', `/v1/orders/${rows[1]!.orderId}`, { token: buyers[1]!.token })).status).toBe(200)
      expect(await deltas(productId, dropId)).toEqual([-2, 1, 1])
      expect(await auditOf(dropId)).toEqual({
        final: true,
        entries: [
          [1, 'expired'],
          [2, 'expired'],
          [3, 'expired'],
        ],
      })
      expect((await s.database.db.select().from(products).where(eq(products.id, productId)).get())!.stock).toBe(1000)
    })

    test('the durable payment check expires an unpaid winner and hands the unit down', async () => {
      const { dropId } = await createDrop(s, { units: 1, waitlist: 1, paymentWindowSeconds: 600 })
      const buyers = await customers(2)
      await runDrop(dropId, buyers)
      clock.advance(600_000 + 1)
      await s.shop.services.jobs.runDue()
      const rows = await entriesOf(s, dropId)
      expect(rows.map((e) => e.outcome)).toEqual(['expired', 'won'])
      expect((await s.database.db.select().from(orders).where(eq(orders.id, rows[0]!.orderId!)).get())!.status).toBe('unpaid')
      expect((await mine(dropId, buyers[1]!.token)).body).toMatchObject({ status: 'won', order_id: rows[1]!.orderId })
    })

    test('with nobody waiting the unit stays in the drop, goes to a later entry, and returns at the close', async () => {
      const { dropId, product } = await createDrop(s, { units: 1, waitlist: 1 })
      const [first, late] = await customers(2)
      await runDrop(dropId, [first!])
      const [won] = await entriesOf(s, dropId)
      await expire(won!.orderId!)
      expect((await entriesOf(s, dropId)).map((e) => e.outcome)).toEqual(['expired'])
      expect((await enter(dropId, late!.token)).status).toBe(202)
      await allocated(s, dropId, 2)
      expect((await entriesOf(s, dropId)).map((e) => e.outcome)).toEqual(['expired', 'won'])
      await expire((await entriesOf(s, dropId))[1]!.orderId!)
      await closeDrop()
      expect((await ledgerOf(s, product.id, dropId)).map((m) => m.delta)).toEqual([-1, 1])
    })
  })

  describe('live results (SSE)', () => {
    /** The `entry` events of a stream, read as they come. */
    async function entryStream(dropId: string, token: string) {
      const res = await fetch(`${s.url}/v1/flash-sales/drops/${dropId}/entries/me/events`, { headers: { authorization: `Bearer ${token}` } })
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/event-stream')
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
      let buffered = ''
      const seen: { status: string }[] = []
      return {
        /** The next entry whose status is `status`; fails if the stream ends first. */
        async until(status: string) {
          for (;;) {
            const at = seen.findIndex((entry) => entry.status === status)
            if (at >= 0) return seen.splice(0, at + 1).at(-1)
            const { value, done } = await reader.read()
            if (done) throw new Error(`stream ended before ${status}`)
            const frames = (buffered + value).split('\n\n')
            buffered = frames.pop()!
            for (const frame of frames) {
              const data = frame.split('\n').find((line) => line.startsWith('data: '))
              if (data) seen.push(JSON.parse(data.slice('data: '.length)))
            }
          }
        },
        async ended() {
          for (;;) if ((await reader.read()).done) return true
        },
        cancel: () => reader.cancel(),
      }
    }

    test('a customer hears the decision, a promotion from the waitlist, and the end', async () => {
      const { dropId } = await createDrop(s, { units: 1, waitlist: 2 })
      await tick()
      const [winner, second, third] = await customers(3)
      for (const buyer of [winner!, second!, third!]) expect((await enter(dropId, buyer.token)).status).toBe(202)
      const secondStream = await entryStream(dropId, second!.token)
      const thirdStream = await entryStream(dropId, third!.token)
      expect(await secondStream.until('waitlisted')).toMatchObject({ seq: 2 })
      await thirdStream.until('waitlisted')
      await expire((await entriesOf(s, dropId))[0]!.orderId!)
      const promoted = (await secondStream.until('won')) as unknown as { seq: number; order_id: string; pay_by: string }
      const promotedOrder = promoted.order_id
      expect(promoted).toMatchObject({ seq: 2, order_id: expect.any(String), pay_by: expect.any(String) })
      // Closed, but the promoted winner may still not pay: the third keeps waiting until they do.
      await closeDrop()
      await pay(promotedOrder)
      await tick()
      expect(await thirdStream.until('lost')).toMatchObject({ seq: 3 })
      expect(await thirdStream.ended()).toBe(true)
      await secondStream.cancel()
      expect((await s.request('GET', `/v1/flash-sales/drops/${dropId}/entries/me/events`, { token: winner!.token })).status).toBe(200)
      expect((await s.request('GET', `/v1/flash-sales/drops/nope/entries/me/events`, { token: winner!.token })).status).toBe(404)
    })
  })

  describe('audit', () => {
    test('409 until the drop closes; then every entry in seq order with a hash the customer can recompute', async () => {
      const { dropId } = await createDrop(s, { units: 2, waitlist: 2 })
      const buyers = await customers(4)
      await runDrop(dropId, buyers)
      const early = await s.request('GET', `/v1/flash-sales/drops/${dropId}/audit`)
      expect(early.status).toBe(409)
      expect(early.body.code).toBe('conflict')
      await expire((await entriesOf(s, dropId))[0]!.orderId!)
      await closeDrop()
      // Seq 4 may still win while seq 2 and 3 have time to pay: held back until final.
      expect(await auditOf(dropId)).toEqual({
        final: false,
        entries: [
          [1, 'expired'],
          [2, 'won'],
          [3, 'won'],
        ],
      })
      for (const row of (await entriesOf(s, dropId)).filter((e) => e.outcome === 'won')) await pay(row.orderId!)
      await tick()
      const audit = await s.request('GET', `/v1/flash-sales/drops/${dropId}/audit`)
      expect(audit.status).toBe(200)
      expect(audit.body).toMatchObject({ units: 2, final: true })
      expect(audit.body.entries.map((e: { seq: number; outcome: string }) => [e.seq, e.outcome])).toEqual([
        [1, 'expired'],
        [2, 'won'],
        [3, 'won'],
        [4, 'lost'],
      ])
      buyers.forEach((buyer, i) => expect(audit.body.entries[i].customer_hash).toBe(sha256Hex(`${audit.body.salt}:${buyer.id}`)))
      expect((await s.request('GET', '/v1/flash-sales/drops/nope/audit')).status).toBe(404)
    })
  })
})

test('the demo seed adds the Black Friday campaign on the iPhone once', async () => {
  const s = await startShop()
  try {
    const first = await seedDemo(s.shop)
    const again = await seedDemo(s.shop)
    expect(again.black_friday_campaign_id).toBe(first.black_friday_campaign_id)
    const list = await s.request('GET', '/v1/flash-sales')
    expect(list.body.data).toHaveLength(1)
    const [campaign] = list.body.data
    expect(campaign).toMatchObject({ id: first.black_friday_campaign_id, product_id: first.iphone_id, price: 100, currency: 'BRL', units_per_drop: 100, drop_count: 24, interval_seconds: 3600 })
    expect(campaign.drops.map((d: { units: number }) => d.units)).toEqual(Array(24).fill(100))
  } finally {
    await s.close()
  }
})
