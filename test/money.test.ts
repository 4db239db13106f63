// Issue 13, failures 1–4: money that always adds up. Each describe reproduces one failure seen
// on main, deterministically, then checks the money invariant (bench/lib/money.ts) over the
// whole database, which reads the gateway's own charges.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { and, eq } from 'drizzle-orm'
import { ManualClock } from '../src/lib/clock'
import { newId } from '../src/lib/ids'
import { stockMovements } from '../src/modules/catalog/schema'
import { Idempotency } from '../src/modules/idempotency'
import { jobs } from '../src/modules/jobs/schema'
import { fakeGatewayCharges, payments } from '../src/modules/payments/schema'
import { startShop, type TestShop } from './support/harness'
import { approvedCard, money } from './support/money'
import { openEvents } from './support/sse'
import { eventually } from './support/eventually'
import { address, shopping } from './support/shopping'
import { allocated, createDrop, entriesOf } from './support/flash-sale'

const DELAY = 3600_000
const clock = new ManualClock(Date.now())
let s: TestShop
let shop: ReturnType<typeof shopping>
let m: ReturnType<typeof money>
beforeAll(async () => {
  s = await startShop({ clock, env: { PAYMENT_CHECK_DELAY_MS: String(DELAY), RECONCILE_EVERY_MS: '0' } })
  shop = shopping(s)
  m = money(s)
})
afterAll(() => s.close())

const card = () => approvedCard(new Date(clock.now()).getUTCFullYear() + 2)
const placed = () => shop.placedOrder({ quantity: 2 })
const refundRows = (orderId: string) =>
  s.database.db
    .select()
    .from(stockMovements)
    .where(and(eq(stockMovements.ref, orderId), eq(stockMovements.reason, 'refund')))
const checkJob = (orderId: string) =>
  s.database.db
    .select()
    .from(jobs)
    .where(eq(jobs.dedupeKey, `payment-check:${orderId}`))
    .get()
const entries = (timeline: { status: string; event?: string }[]) => timeline.map((e) => (e.event ? `${e.status}/${e.event}` : e.status))

describe('failure 1: a cancelled order can no longer be charged', () => {
  test.each(['customer', 'admin'] as const)('cancelled by the %s while its Pix is pending: the payment is cancelled, its charge voided, the code refused (409 invalid_transition)', async (who) => {
    const { p, u, order } = await placed()
    const pix = (await m.pay(u.token, order.id, { method: 'pix' })).body
    const by = who === 'customer' ? u : await s.admin()
    expect((await s.request('DELETE', `/v1/orders/${order.id}`, { token: by.token })).body.status).toBe('cancelled')
    expect((await m.paymentsOf(order.id)).map((row) => row.status)).toEqual(['cancelled'])
    expect((await m.chargesOf(pix.id))[0]!.status).toBe('voided')
    const paid = await m.simulate(u.token, pix.id, 'paid')
    expect(paid.status).toBe(409)
    expect(paid.body.code).toBe('invalid_transition')
    // The bank itself (not through our route) is refused too: the charge is void at the gateway.
    expect(await s.shop.services.gateway.simulate((await m.chargesOf(pix.id))[0]!.ref, 'paid').catch((e) => e.code)).toBe('invalid_transition')
    const after = await m.order(u.token, order.id)
    expect(entries(after.timeline)).toEqual(['pending_payment', 'cancelled', 'cancelled/payment_voided'])
    expect(after.timeline[2].payment_id).toBe(pix.id)
    expect(await shop.stockOf(p.id)).toBe(10)
    expect(await m.violations()).toEqual([])
  })

  test('a Pix code past its expires_at cannot be paid, even before the payment check has run', async () => {
    const { u, order } = await placed()
    const pix = (await m.pay(u.token, order.id, { method: 'pix' })).body
    clock.advance(DELAY + 1)
    const late = await m.simulate(u.token, pix.id, 'paid')
    expect(late.status).toBe(409)
    expect(late.body.code).toBe('invalid_transition')
    await m.quiet()
    expect((await m.order(u.token, order.id)).status).toBe('unpaid')
    expect((await m.paymentsOf(order.id))[0]!.status).toBe('expired')
    expect(await m.violations()).toEqual([])
  })

  test('a card capture whose webhook lands after the cancellation is refunded automatically: timeline and live stream say payment_refunded', async () => {
    const { p, u, order } = await placed()
    const restore = m.cutWebhooks()
    expect((await m.pay(u.token, order.id, card())).status).toBe(201)
    await s.shop.services.gateway.idle()
    const stream = await openEvents(`${s.url}/v1/orders/${order.id}/events`, u.token)
    expect((await s.request('DELETE', `/v1/orders/${order.id}`, { token: u.token })).status).toBe(200)
    restore()
    // The gateway's retry delivers the capture: the cancelled order cannot take it.
    clock.advance(3000)
    await m.quiet()
    const [payment] = await m.paymentsOf(order.id)
    expect(payment!.status).toBe('refunded')
    expect((await m.chargesOf(payment!.id))[0]!.status).toBe('refunded')
    const after = await m.order(u.token, order.id)
    expect(after.status).toBe('cancelled')
    expect(entries(after.timeline)).toEqual(['pending_payment', 'cancelled', 'cancelled/payment_voided', 'cancelled/payment_refunded'])
    await eventually(() => expect(stream.events.map((e) => e.data.event ?? e.data.status)).toEqual(['pending_payment', 'cancelled', 'payment_voided', 'payment_refunded']))
    stream.close()
    // Stock came back once, with the cancellation; the refund moved money only.
    expect(await shop.stockOf(p.id)).toBe(10)
    expect(await refundRows(order.id)).toEqual([])
    expect(await m.violations()).toEqual([])
  })
})

describe('failure 2: a card paid at the payment deadline', () => {
  test.each(['before', 'after'] as const)('the check runs while the charge is in flight (paused %s the gateway call): it waits, and the order is paid, never charged while unpaid', async (where) => {
    const { p, u, order } = await placed()
    const pause = m.pauseCharges(where)
    const restore = m.cutWebhooks()
    try {
      // Paid at the deadline: the check is due as the charge is being made.
      clock.advance(DELAY)
      const paying = m.pay(u.token, order.id, card())
      await pause.paused
      await s.shop.services.jobs.runDue()
      expect((await m.order(u.token, order.id)).status).toBe('pending_payment')
      expect((await m.paymentsOf(order.id)).map((row) => row.status)).toEqual(['pending'])
      expect(await checkJob(order.id)).toMatchObject({ doneAt: null, failedAt: null, lastError: expect.stringContaining('charge being created') })
      pause.release()
      expect((await paying).status).toBe(201)
    } finally {
      pause.restore()
      restore()
    }
    clock.advance(10_000)
    await m.quiet()
    expect((await m.order(u.token, order.id)).status).toBe('paid')
    // Its next try finds the order paid and is done.
    clock.advance(60_000)
    await m.quiet()
    expect(await checkJob(order.id)).toMatchObject({ doneAt: expect.any(String) })
    expect(await shop.stockOf(p.id)).toBe(8)
    expect(await m.violations()).toEqual([])
  })

  test('150 card payments raced against the payment check: each order ends paid or unpaid, and nothing is captured on an unpaid one', async () => {
    const orders = await Promise.all(Array.from({ length: 150 }, () => placed()))
    clock.advance(DELAY)
    const { gateway, payments: service } = s.shop.services
    const original = gateway.createCharge.bind(gateway)
    // Varied interleavings: each charge and each check starts after its own random pause.
    gateway.createCharge = async (request) => {
      await Bun.sleep(Math.random() * 10)
      return original(request)
    }
    const seen = { expired: 0, waited_in_flight: 0, opened_meanwhile: 0, waited_webhook: 0 }
    const check = (orderId: string) =>
      service.checkPayment(orderId).then(
        () => seen.expired++,
        (error) => (String(error).includes('being created') ? seen.waited_in_flight++ : String(error).includes('opened while') ? seen.opened_meanwhile++ : seen.waited_webhook++),
      )
    let answers: { status: number }[]
    try {
      answers = await Promise.all(
        orders.map(async ({ u, order }) => {
          const [answer] = await Promise.all([m.pay(u.token, order.id, card()), Bun.sleep(Math.random() * 40).then(() => check(order.id))])
          return answer
        }),
      )
    } finally {
      Reflect.deleteProperty(gateway, 'createCharge')
    }
    await m.quiet()
    // Every check decides now that nothing is in flight.
    for (const { order } of orders) await service.checkPayment(order.id)
    const finals = await Promise.all(orders.map(({ u, order }) => m.order(u.token, order.id)))
    expect(finals.every((o) => o.status === 'paid' || o.status === 'unpaid')).toBe(true)
    // A 201 is always a payment that went through (never "201, expired" with the card charged); a refusal leaves nothing charged.
    expect(answers.map((answer, i) => `${answer.status} ${finals[i].status}`).filter((pair) => pair !== '201 paid' && pair !== '409 unpaid')).toEqual([])
    expect(await m.violations()).toEqual([])
    console.log(
      `race: ${finals.filter((o) => o.status === 'paid').length} paid, ${finals.filter((o) => o.status === 'unpaid').length} unpaid of ${orders.length}; first checks: ${JSON.stringify(seen)}`,
    )
  }, 60_000)
})

describe('failure 3: webhooks are never given up', () => {
  test('a capture refused 6 times (the shop briefly could not write) is delivered by its job with backoff: the order becomes paid without a restart', async () => {
    const { u, order } = await placed()
    const restore = m.cutWebhooks()
    expect((await m.pay(u.token, order.id, card())).status).toBe(201)
    await s.shop.services.gateway.idle()
    for (let attempt = 0; attempt < 6; attempt++) {
      clock.advance(10 * 60_000)
      await s.shop.services.jobs.runDue()
    }
    expect((await m.order(u.token, order.id)).status).toBe('pending_payment')
    restore()
    clock.advance(10 * 60_000)
    await m.quiet()
    expect((await m.order(u.token, order.id)).status).toBe('paid')
    const [payment] = await m.paymentsOf(order.id)
    const delivery = await s.database.db.select().from(jobs).where(eq(jobs.kind, 'fake_gateway.webhook')).all()
    const mine = delivery.filter((job) => job.payload.event_id && job.lastError !== null)
    expect(mine.some((job) => job.attempts >= 7 && job.doneAt !== null && job.failedAt === null)).toBe(true)
    expect(payment!.status).toBe('paid')
    expect(await m.violations()).toEqual([])
  })
})

describe('failure 4: a payment interrupted by a crash never blocks the order', () => {
  /** What a request killed between opening its payment and recording the charge leaves: the payment row and its key, reserved for a day (as main reserved it). */
  async function interrupted(chargeAtGateway: boolean) {
    const { u, order } = await placed()
    const idempotency = new Idempotency(s.config.DATA_KEY)
    const body: { method: string; card?: ReturnType<typeof card>['card'] } = chargeAtGateway ? card() : { method: 'pix' }
    const request = idempotency.request(u.id, 'crashed', `POST /v1/orders/${order.id}/payments`, body)
    const paymentId = newId()
    await s.database.write(async (tx) => {
      const at = clock.iso()
      await tx.insert(payments).values({
        id: paymentId,
        orderId: order.id,
        method: body.method as 'card',
        status: 'pending',
        amount: order.order_total,
        currency: 'BRL',
        idempotencyKey: 'crashed',
        createdAt: at,
        updatedAt: at,
      })
      await idempotency.reserveMany(tx, [{ request, nowMs: clock.now() }])
    })
    if (chargeAtGateway) {
      // The gateway took the card and owes its webhook; the process died before hearing back.
      const restore = m.cutWebhooks()
      await s.shop.services.gateway.createCharge({ paymentId, amount: order.order_total, currency: 'BRL', method: 'card', card: body.card, expiresAt: order.payment_due_at })
      await s.shop.services.gateway.idle()
      restore()
      await s.database.write((tx) => tx.delete(jobs).where(eq(jobs.kind, 'fake_gateway.webhook')))
    }
    return { u, order, body, paymentId }
  }

  test('died before the charge: within 60 s the reconciler fails the payment and releases the key; a retry, same key or new, is accepted', async () => {
    const { u, order, body, paymentId } = await interrupted(false)
    expect((await m.pay(u.token, order.id, body, { 'idempotency-key': 'crashed' })).status).toBe(409)
    expect((await m.pay(u.token, order.id, body, { 'idempotency-key': 'another' })).status).toBe(409)
    clock.advance(21_000)
    await s.shop.services.reconciler.run()
    expect((await s.database.db.select().from(payments).where(eq(payments.id, paymentId)).get())!.status).toBe('failed')
    const retry = await m.pay(u.token, order.id, body, { 'idempotency-key': 'crashed' })
    expect(retry.status).toBe(201)
    expect(retry.body.status).toBe('pending')
    expect(await m.violations()).toEqual([])
  })

  test('died after the gateway captured the card: the reconciler adopts the charge and delivers its webhook; the order is paid once', async () => {
    const { u, order, paymentId } = await interrupted(true)
    clock.advance(21_000)
    await s.shop.services.reconciler.run()
    await m.quiet()
    expect((await m.order(u.token, order.id)).status).toBe('paid')
    const [payment] = await m.paymentsOf(order.id)
    expect(payment).toMatchObject({ id: paymentId, status: 'paid', gatewayRef: expect.stringMatching(/^ch_/) })
    expect(await m.violations()).toEqual([])
  })
})

describe('refunds', () => {
  async function paidOrder() {
    const placedOrder = await placed()
    expect((await m.pay(placedOrder.u.token, placedOrder.order.id, card())).status).toBe(201)
    await m.quiet()
    return placedOrder
  }
  const refund = (token: string, id: string, body: Record<string, unknown> = { reason: 'damaged in transit' }) => s.request('POST', `/v1/orders/${id}/refund`, { token, body })
  const ship = (token: string, id: string) => s.request('PATCH', `/v1/orders/${id}`, { token, body: { status: 'shipped' } })

  test('an admin refunds a paid order: refunded, the payment refunded through the gateway and its webhook, the stock back once (reason refund)', async () => {
    const { p, u, order } = await paidOrder()
    const admin = await s.admin()
    const stream = await openEvents(`${s.url}/v1/orders/${order.id}/events`, u.token)
    const res = await refund(admin.token, order.id)
    expect(res.status).toBe(200)
    expect(res.body.status).toBe('refunded')
    expect(entries(res.body.timeline)).toEqual(['pending_payment', 'paid', 'refunded', 'refunded/payment_refunded'])
    const [payment] = await m.paymentsOf(order.id)
    expect(payment).toMatchObject({ status: 'refunded', refundReason: 'damaged in transit' })
    expect((await m.chargesOf(payment!.id))[0]!.status).toBe('refunded')
    expect(await shop.stockOf(p.id)).toBe(10)
    expect((await refundRows(order.id)).map((row) => row.delta)).toEqual([2])
    // The stream carries the refund and then ends (nothing more can happen).
    await eventually(() => expect(stream.ended).toBe(true))
    expect(stream.events.map((e) => e.data.event ?? e.data.status)).toEqual(['paid', 'refunded', 'payment_refunded'])
    const again = await refund(admin.token, order.id)
    expect([again.status, again.body.code]).toEqual([409, 'invalid_transition'])
    expect(await m.violations()).toEqual([])
  })

  test('a shipped order: the stock stays out unless restock is asked for', async () => {
    const admin = await s.admin()
    const kept = await paidOrder()
    const restocked = await paidOrder()
    for (const { order } of [kept, restocked]) expect((await ship(admin.token, order.id)).status).toBe(200)
    expect((await refund(admin.token, kept.order.id)).body.status).toBe('refunded')
    expect((await refund(admin.token, restocked.order.id, { reason: 'returned', restock: true })).body.status).toBe('refunded')
    expect(await shop.stockOf(kept.p.id)).toBe(8)
    expect(await shop.stockOf(restocked.p.id)).toBe(10)
    expect(await m.violations()).toEqual([])
  })

  test("the owner's DELETE of a paid, unshipped order refunds it; an admin's DELETE of a paid order and the owner's of a shipped one stay 409", async () => {
    const admin = await s.admin()
    const mine = await paidOrder()
    const adminsTry = await s.request('DELETE', `/v1/orders/${mine.order.id}`, { token: admin.token })
    expect([adminsTry.status, adminsTry.body.code]).toEqual([409, 'invalid_transition'])
    const own = await s.request('DELETE', `/v1/orders/${mine.order.id}`, { token: mine.u.token })
    expect([own.status, own.body.status]).toEqual([200, 'refunded'])
    expect(await shop.stockOf(mine.p.id)).toBe(10)
    const shipped = await paidOrder()
    await ship(admin.token, shipped.order.id)
    expect((await s.request('DELETE', `/v1/orders/${shipped.order.id}`, { token: shipped.u.token })).status).toBe(409)
    expect(await m.violations()).toEqual([])
  })

  test('only an admin refunds (403), only a paid, shipped or delivered order (409); unknown fields 422', async () => {
    const { u, order } = await placed()
    const admin = await s.admin()
    expect((await refund(u.token, order.id)).status).toBe(403)
    const pending = await refund(admin.token, order.id)
    expect([pending.status, pending.body.code]).toEqual([409, 'invalid_transition'])
    expect((await refund(admin.token, order.id, { reason: 'x', amount: 1 })).status).toBe(422)
    expect((await refund(admin.token, order.id, {})).status).toBe(422)
  })
})

describe('the reconciler', () => {
  test('delivers a webhook the gateway never got through, refunds an orphan capture, voids an orphan Pix; logs and counts each', async () => {
    const { gateway, reconciler } = s.shop.services
    const { u, order } = await placed()
    const pix = (await m.pay(u.token, order.id, { method: 'pix' })).body
    const restore = m.cutWebhooks()
    await gateway.simulate((await m.chargesOf(pix.id))[0]!.ref, 'paid')
    // Charges for payments we never opened (a bug elsewhere, another system sharing the account).
    await gateway.createCharge({ paymentId: `ghost-${newId()}`, amount: 500, currency: 'BRL', method: 'card', card: card().card, expiresAt: clock.iso() })
    const orphanPix = await gateway.createCharge({ paymentId: `ghost-${newId()}`, amount: 500, currency: 'BRL', method: 'pix', expiresAt: clock.iso() })
    await gateway.idle()
    restore()
    await s.database.write((tx) => tx.delete(jobs).where(eq(jobs.kind, 'fake_gateway.webhook')))
    // Charges younger than the in-flight window are left alone (their webhook or void may be on its way).
    await reconciler.run()
    expect((await m.order(u.token, order.id)).status).toBe('pending_payment')
    clock.advance(21_000)
    await reconciler.run()
    await m.quiet()
    expect((await m.order(u.token, order.id)).status).toBe('paid')
    expect((await s.database.db.select().from(fakeGatewayCharges).where(eq(fakeGatewayCharges.ref, orphanPix.ref)).get())!.status).toBe('voided')
    const metrics = await (await fetch(`${s.url}/metrics`)).text()
    for (const action of ['webhook_delivered', 'orphan_refunded', 'orphan_voided']) expect(metrics).toMatch(new RegExp(`shop_payments_reconciled_total\\{action="${action}"\\} [1-9]`))
    expect(await m.violations()).toEqual([])
  })
})

describe('refunds of flash-sale winners', () => {
  const tick = () => s.shop.services.flashSale.scheduler.tick()
  async function paidWinner(waitlist: number) {
    const { dropId, product } = await createDrop(s, { units: 1, waitlist })
    await tick()
    const buyers = [await s.createUser(), await s.createUser()]
    for (const buyer of buyers) await s.request('POST', `/v1/flash-sales/drops/${dropId}/entries`, { token: buyer.token })
    await allocated(s, dropId, waitlist ? 2 : 1)
    const [winner] = await entriesOf(s, dropId)
    const buyer = buyers.find((b) => b.id === winner!.userId)!
    await s.request('PATCH', `/v1/orders/${winner!.orderId}`, { token: buyer.token, body: { shipping_address: address } })
    expect((await m.pay(buyer.token, winner!.orderId!, card())).status).toBe(201)
    await m.quiet()
    return { dropId, product, buyer, orderId: winner!.orderId! }
  }

  test("while the drop's waitlist is live, a refunded unit passes to the first waitlisted entry (no stock moves)", async () => {
    const { dropId, product, buyer, orderId } = await paidWinner(1)
    const stock = await shop.stockOf(product.id)
    expect((await s.request('DELETE', `/v1/orders/${orderId}`, { token: buyer.token })).body.status).toBe('refunded')
    const [first, second] = await entriesOf(s, dropId)
    expect([first!.outcome, second!.outcome]).toEqual(['expired', 'won'])
    expect(second!.orderId).not.toBeNull()
    expect(await shop.stockOf(product.id)).toBe(stock)
    expect(await refundRows(orderId)).toEqual([])
    expect(await m.violations()).toEqual([])
  })

  test('with nobody waiting, the refunded unit goes back to stock (ledger reason refund) and the entry stays won', async () => {
    const { dropId, product, buyer, orderId } = await paidWinner(0)
    const stock = await shop.stockOf(product.id)
    expect((await s.request('DELETE', `/v1/orders/${orderId}`, { token: buyer.token })).body.status).toBe('refunded')
    expect((await entriesOf(s, dropId)).map((e) => e.outcome)).toEqual(['won'])
    expect(await shop.stockOf(product.id)).toBe(stock + 1)
    expect((await refundRows(orderId)).map((row) => row.delta)).toEqual([1])
    expect(await m.violations()).toEqual([])
  })
})

describe('failure 2 for a flash-sale winner', () => {
  test('a winner paying at the deadline while the check runs keeps the unit: paid, and the waitlist does not get it', async () => {
    const { dropId } = await createDrop(s, { units: 1, waitlist: 1, paymentWindowSeconds: 60 })
    await s.shop.services.flashSale.scheduler.tick()
    const buyers = [await s.createUser(), await s.createUser()]
    for (const buyer of buyers) await s.request('POST', `/v1/flash-sales/drops/${dropId}/entries`, { token: buyer.token })
    await allocated(s, dropId, 2)
    const [winner] = await entriesOf(s, dropId)
    const buyer = buyers.find((b) => b.id === winner!.userId)!
    await s.request('PATCH', `/v1/orders/${winner!.orderId}`, { token: buyer.token, body: { shipping_address: address } })
    const pause = m.pauseCharges('before')
    try {
      clock.advance(60_000)
      const paying = m.pay(buyer.token, winner!.orderId!, card())
      await pause.paused
      await s.shop.services.jobs.runDue()
      expect((await entriesOf(s, dropId)).map((e) => e.outcome)).toEqual(['won', 'waitlisted'])
      pause.release()
      expect((await paying).status).toBe(201)
    } finally {
      pause.restore()
    }
    await m.quiet()
    expect((await m.order(buyer.token, winner!.orderId!)).status).toBe('paid')
    expect((await entriesOf(s, dropId)).map((e) => e.outcome)).toEqual(['won', 'waitlisted'])
    expect(await m.violations()).toEqual([])
  })
})
