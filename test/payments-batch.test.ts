// Payments' writes that queue while the writer is busy are written as one batch: the webhook's
// (src/modules/payments/webhook.ts), every kind of event at once, each with the end it has
// alone and the money still adding up; the fake gateway's charges and acknowledgements.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { and, eq, inArray, isNotNull } from 'drizzle-orm'
import { statementCounts } from '../bench/lib/statement-counts'
import { ManualClock } from '../src/lib/clock'
import { ORDER_STATUS_CHANNEL, type OrderStatusEvent } from '../src/modules/orders'
import { orderTimeline } from '../src/modules/orders/schema'
import { jobs } from '../src/modules/jobs/schema'
import { WEBHOOK_DELIVERY_JOB } from '../src/modules/payments/fake-gateway'
import { fakeGatewayCharges, fakeGatewayEvents, webhookEvents } from '../src/modules/payments/schema'
import { startShop, type TestShop } from './support/harness'
import { approvedCard, money } from './support/money'
import { shopping } from './support/shopping'
import { holdWriter } from './support/hold-writer'
import { webhooks, type GatewayEventBody } from './support/webhooks'

const clock = new ManualClock(Date.now())
const counter = statementCounts()
let s: TestShop
let shop: ReturnType<typeof shopping>
let m: ReturnType<typeof money>
let hooks: ReturnType<typeof webhooks>
beforeAll(async () => {
  s = await startShop({ clock, env: { PAYMENT_CHECK_DELAY_MS: String(3600_000), RECONCILE_EVERY_MS: '0' } })
  shop = shopping(s)
  m = money(s)
  hooks = webhooks(s, clock)
})
afterAll(async () => {
  await s.close()
  counter.restore()
})

const card = () => approvedCard(new Date(clock.now()).getUTCFullYear() + 2)
const outcomeOf = async (eventId: string) => (await s.database.db.select().from(webhookEvents).where(eq(webhookEvents.id, eventId)).get())?.outcome
const timelineOf = async (orderId: string) =>
  (await s.database.db.select().from(orderTimeline).where(eq(orderTimeline.orderId, orderId)).orderBy(orderTimeline.id)).map((e) => ({
    id: e.id,
    entry: e.event ? `${e.status}/${e.event}` : e.status,
  }))

/** An order paid by card whose capture the gateway owes but has not delivered (deliveries are cut). */
async function capturedCard() {
  const { u, order } = await shop.placedOrder()
  const payment = (await m.pay(u.token, order.id, card())).body
  const [charge] = await m.chargesOf(payment.id)
  return { u, order, payment, ref: charge!.ref }
}
async function pendingPix() {
  const { u, order } = await shop.placedOrder()
  const payment = (await m.pay(u.token, order.id, { method: 'pix' })).body
  const [charge] = await m.chargesOf(payment.id)
  return { u, order, payment, ref: charge!.ref }
}

test('many payments’ webhooks in one batch (approved, declined, expired, duplicates, a mismatch, an unknown payment, captures of cancelled orders): each ends as it would alone, the live stream hears each move once, the money adds up', async () => {
  const { gateway, orderLifecycle, events } = s.shop.services
  // Already paid, through the gateway's own delivery: its event comes again in the batch, and a second report of it under a new id.
  const earlier = await capturedCard()
  await gateway.idle()
  const earlierEvent = await hooks.owedFor(earlier.ref, 'charge.paid')

  // From here the gateway's deliveries are refused: its events stay owed (with their retry jobs) and the test delivers them.
  const deliver = gateway.connect(async () => new Response(null, { status: 503 }))!
  const approved = await Promise.all(Array.from({ length: 8 }, capturedCard))
  const mismatched = await Promise.all(Array.from({ length: 2 }, capturedCard))
  const cancelled = await Promise.all(Array.from({ length: 2 }, capturedCard))
  for (const c of cancelled) expect((await s.request('DELETE', `/v1/orders/${c.order.id}`, { token: c.u.token })).status).toBe(200)
  const expired = await Promise.all(Array.from({ length: 2 }, pendingPix))
  for (const e of expired) await gateway.simulate(e.ref, 'expired')
  const declined = await Promise.all(Array.from({ length: 2 }, pendingPix))
  // The bank declines these: the gateway's books say so, and it reports charge.failed.
  await s.database.write((tx) =>
    tx
      .update(fakeGatewayCharges)
      .set({ status: 'failed' })
      .where(
        inArray(
          fakeGatewayCharges.ref,
          declined.map((d) => d.ref),
        ),
      ),
  )
  await m.quiet()

  const approvedEvents = await Promise.all(approved.map((a) => hooks.owedFor(a.ref, 'charge.paid')))
  const sent: GatewayEventBody[] = [
    earlierEvent,
    { ...earlierEvent, id: `${earlierEvent.id}-again` },
    ...approvedEvents,
    // The same capture reported again under a new id, in the same rush: applied once, whichever lands first.
    { ...approvedEvents[0]!, id: `${approvedEvents[0]!.id}-again` },
    // Reported with another amount than the order's: never paid, the capture given back.
    ...(await Promise.all(mismatched.map(async (c) => ({ ...(await hooks.owedFor(c.ref, 'charge.paid')), amount: c.payment.amount - 1 })))),
    ...(await Promise.all(cancelled.map((c) => hooks.owedFor(c.ref, 'charge.paid')))),
    ...(await Promise.all(expired.map((e) => hooks.owedFor(e.ref, 'charge.expired')))),
    ...declined.map((d) => ({ id: `evt_failed_${d.payment.id}`, type: 'charge.failed', charge_ref: d.ref, payment_id: d.payment.id, amount: d.payment.amount, currency: 'BRL', created: 0 })),
    { ...earlierEvent, id: 'evt_unknown_payment', payment_id: 'no-such-payment', charge_ref: 'ch_nobody' },
  ]

  // Spies: when every webhook has reached the receiver, and how many orders each group moved to paid.
  const counted = hooks.countReceived()
  const groups: number[] = []
  const write = orderLifecycle.write.bind(orderLifecycle)
  orderLifecycle.write = ((fn: Parameters<typeof write>[0], options: Parameters<typeof write>[1]) =>
    write(
      (tx, transition, moves) => fn(tx, transition, { ...moves, transitionAll: (targets, to, options) => (groups.push(targets.length), moves.transitionAll(targets, to, options)) }),
      options,
    )) as typeof write
  const published: OrderStatusEvent[] = []
  const unsubscribe = await events.subscribe(ORDER_STATUS_CHANNEL, (message) => published.push(message as OrderStatusEvent))
  counter.counts.clear()
  try {
    const release = holdWriter(s.database)
    // Each event delivered twice at once (a provider's retry racing its first try).
    const answers = Promise.all([...sent, ...sent].map(hooks.post))
    while (counted.received < sent.length * 2) await Bun.sleep(5)
    counter.start()
    await release()
    expect((await answers).map((r) => r.status)).toEqual([...sent, ...sent].map(() => 200))
  } finally {
    counter.stop()
    counted.restore()
    Reflect.deleteProperty(orderLifecycle, 'write')
  }
  // 40 deliveries in 4 batches (a payment's events never share one; the busiest payment had 4),
  // and the 8 captures moved together: one UPDATE of the payments, one of the orders, one timeline INSERT.
  expect(counter.runsOf(/^\s*INSERT INTO "webhook_events"/i)).toBe(4)
  expect(groups).toEqual([8])
  expect(counter.runsOf(/^\s*UPDATE "payments" SET status = 'paid'/i)).toBe(1)
  expect(counter.runsOf(/^\s*UPDATE "orders"/i)).toBe(1)

  gateway.connect(deliver)
  clock.advance(3000)
  await m.quiet()
  await unsubscribe()

  for (const a of approved) {
    expect((await m.order(a.u.token, a.order.id)).status).toBe('paid')
    expect((await m.paymentsOf(a.order.id)).map((p) => p.status)).toEqual(['paid'])
    const timeline = await timelineOf(a.order.id)
    expect(timeline.map((e) => e.entry)).toEqual(['pending_payment', 'paid'])
    // Published once, after the commit, with its timeline row as the stream's id.
    expect(published.filter((e) => e.order_id === a.order.id)).toEqual([{ event_id: timeline[1]!.id, order_id: a.order.id, user_id: a.u.id, source: 'cart', status: 'paid', at: expect.any(String) }])
  }
  expect([await outcomeOf(approvedEvents[0]!.id), await outcomeOf(`${approvedEvents[0]!.id}-again`)].sort()).toEqual(['applied', 'duplicate'])
  expect((await timelineOf(earlier.order.id)).map((e) => e.entry)).toEqual(['pending_payment', 'paid'])
  expect(await outcomeOf(earlierEvent.id)).toBe('applied')
  expect(await outcomeOf(`${earlierEvent.id}-again`)).toBe('duplicate')
  for (const c of mismatched) {
    expect((await m.order(c.u.token, c.order.id)).status).toBe('pending_payment')
    expect((await m.paymentsOf(c.order.id)).map((p) => p.status)).toEqual(['refunded'])
    expect((await m.chargesOf(c.payment.id)).map((charge) => charge.status)).toEqual(['refunded'])
    expect(await outcomeOf((await hooks.owedFor(c.ref, 'charge.paid')).id)).toBe('amount_mismatch')
  }
  for (const c of cancelled) {
    expect((await m.order(c.u.token, c.order.id)).status).toBe('cancelled')
    expect((await m.paymentsOf(c.order.id)).map((p) => p.status)).toEqual(['refunded'])
    expect((await timelineOf(c.order.id)).map((e) => e.entry)).toEqual(['pending_payment', 'cancelled', 'cancelled/payment_voided', 'cancelled/payment_refunded'])
    expect(await outcomeOf((await hooks.owedFor(c.ref, 'charge.paid')).id)).toBe('refunding')
  }
  for (const e of expired) {
    expect((await m.order(e.u.token, e.order.id)).status).toBe('pending_payment')
    expect((await m.paymentsOf(e.order.id)).map((p) => p.status)).toEqual(['expired'])
  }
  for (const d of declined) {
    expect((await m.order(d.u.token, d.order.id)).status).toBe('pending_payment')
    expect((await m.paymentsOf(d.order.id)).map((p) => p.status)).toEqual(['failed'])
  }
  expect(await outcomeOf('evt_unknown_payment')).toBe('unknown_payment')
  // Nothing but the captures moved an order: no paid entry on any other order's stream.
  expect(
    published
      .filter((e) => e.status === 'paid')
      .map((e) => e.order_id)
      .sort(),
  ).toEqual(approved.map((a) => a.order.id).sort())
  expect(await m.violations()).toEqual([])
})

test("the fake gateway's charges and acknowledgements that queue together are written as one job each; every charge call answers only once its owed webhook and retry job are stored", async () => {
  const { gateway } = s.shop.services
  let arrived = 0
  let open!: () => void
  const opened = new Promise<void>((resolve) => (open = resolve))
  const deliver = gateway.connect(async () => {
    arrived++
    await opened
    return new Response(null, { status: 200 })
  })!
  const durable = async (chargeRef: string) => {
    const event = await s.database.db.select().from(fakeGatewayEvents).where(eq(fakeGatewayEvents.chargeRef, chargeRef)).get()
    const job =
      event &&
      (await s.database.db
        .select()
        .from(jobs)
        .where(eq(jobs.dedupeKey, `webhook:${event.id}`))
        .get())
    return { event: Boolean(event), job: job?.kind }
  }
  const charges = Array.from({ length: 16 }, (_, i) => ({
    paymentId: `pay_batch_${i}`,
    amount: 1000 + i,
    currency: 'BRL',
    method: 'card' as const,
    card: card().card,
    expiresAt: new Date(clock.now() + 3600_000).toISOString(),
  }))
  counter.counts.clear()
  try {
    let release = holdWriter(s.database)
    counter.start()
    const answered = charges.map((request) => gateway.createCharge(request).then(async (charge) => ({ charge, stored: await durable(charge.ref) })))
    await release()
    for (const { charge, stored } of await Promise.all(answered)) {
      expect(charge.status).toBe('pending')
      expect(stored).toEqual({ event: true, job: WEBHOOK_DELIVERY_JOB })
    }
    expect(counter.runsOf(/^insert into "fake_gateway_charges"/)).toBe(1)
    expect(counter.runsOf(/^insert into "fake_gateway_events"/)).toBe(1)

    // The 16 deliveries answered together: their acknowledgements queue behind the held writer.
    while (arrived < charges.length) await Bun.sleep(5)
    release = holdWriter(s.database)
    open()
    await Bun.sleep(50)
    await release()
    await gateway.idle()
    expect(counter.runsOf(/^update "fake_gateway_events" set "delivered_at"/)).toBe(1)
    expect(counter.runsOf(/^update "jobs" set .*"done_at"/)).toBe(1)
  } finally {
    counter.stop()
    gateway.connect(deliver)
  }
  const refs = (
    await s.database.db
      .select()
      .from(fakeGatewayCharges)
      .where(
        inArray(
          fakeGatewayCharges.paymentId,
          charges.map((c) => c.paymentId),
        ),
      )
  ).map((c) => c.ref)
  const delivered = await s.database.db
    .select()
    .from(fakeGatewayEvents)
    .where(and(inArray(fakeGatewayEvents.chargeRef, refs), isNotNull(fakeGatewayEvents.deliveredAt)))
  expect(delivered).toHaveLength(16)
  const settled = await s.database.db
    .select()
    .from(jobs)
    .where(
      and(
        inArray(
          jobs.dedupeKey,
          delivered.map((e) => `webhook:${e.id}`),
        ),
        isNotNull(jobs.doneAt),
      ),
    )
  expect(settled).toHaveLength(16)
  // Captures of payments the shop never had: given back, as the reconciler would.
  for (const ref of refs) await gateway.refund(ref)
  expect(await m.violations()).toEqual([])
})
