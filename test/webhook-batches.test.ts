// Webhooks applied as one batch (src/modules/payments/webhook.ts) end as they would one at a
// time: no answer waits for another webhook's after-commit work (a refund at the gateway), that
// work still finishes before a shutdown closes what it uses, and an order's events are applied
// in the order they came.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { ManualClock } from '../src/lib/clock'
import { jobs } from '../src/modules/jobs/schema'
import { fakeGatewayCharges, payments } from '../src/modules/payments/schema'
import { eventually } from './support/eventually'
import { startShop, type TestShop } from './support/harness'
import { holdWriter } from './support/hold-writer'
import { approvedCard, money } from './support/money'
import { shopping } from './support/shopping'
import { webhooks, type GatewayEventBody } from './support/webhooks'

const clock = new ManualClock(Date.now())
const env = { PAYMENT_CHECK_DELAY_MS: String(3600_000), RECONCILE_EVERY_MS: '0' }
let s: TestShop
beforeAll(async () => {
  s = await startShop({ clock, env })
})
afterAll(() => s.close())

const card = () => approvedCard(new Date(clock.now()).getUTCFullYear() + 2)
const entries = (timeline: { status: string; event?: string }[]) => timeline.map((e) => (e.event ? `${e.status}/${e.event}` : e.status))

/** A shop's buying, money and webhook helpers together. */
function helpers(t: TestShop) {
  const m = money(t)
  const hooks = webhooks(t, clock)
  return {
    m,
    hooks,
    /** An order paid by card whose capture the gateway owes but has not delivered (`capture`: the exact event it would send). */
    async capturedCard() {
      const { u, order } = await shopping(t).placedOrder()
      const restore = m.cutWebhooks()
      const payment = (await m.pay(u.token, order.id, card())).body
      await t.shop.services.gateway.idle()
      restore()
      const [charge] = await m.chargesOf(payment.id)
      return { u, order, payment, ref: charge!.ref, capture: await hooks.owedFor(charge!.ref, 'charge.paid') }
    },
    /** Posts `events` in this order, each queued behind the held writer before the next is sent, so they land in one batch. */
    async postOneBatch(events: GatewayEventBody[]) {
      const counted = hooks.countReceived()
      const release = holdWriter(t.database)
      const answers: Promise<number>[] = []
      try {
        for (const event of events) {
          answers.push(hooks.post(event).then((r) => r.status))
          while (counted.received < answers.length) await Bun.sleep(5)
        }
      } finally {
        counted.restore()
        await release()
      }
      return answers
    },
  }
}

test('a refund held at the gateway holds no other answer of its batch: the capture batched with it is answered at the commit, the refund lands once released', async () => {
  const { m, capturedCard, postOneBatch } = helpers(s)
  const [mismatched, other] = [await capturedCard(), await capturedCard()]
  const refunds = m.pauseRefunds()
  try {
    // Reported with another amount than the order's: never paid, its capture given back (the refund job runs at once, after the commit).
    const answers = await postOneBatch([{ ...mismatched.capture, amount: mismatched.payment.amount - 1 }, other.capture])
    await refunds.paused
    const statuses: number[] = []
    for (const answer of answers) void answer.then((status) => statuses.push(status))
    await eventually(() => expect(statuses).toEqual([200, 200]))
    // Answered while the refund is still held at the gateway.
    expect((await m.chargesOf(mismatched.payment.id)).map((charge) => charge.status)).toEqual(['paid'])
    expect((await m.order(other.u.token, other.order.id)).status).toBe('paid')
  } finally {
    refunds.release()
    refunds.restore()
  }
  await m.quiet()
  expect((await m.chargesOf(mismatched.payment.id)).map((charge) => charge.status)).toEqual(['refunded'])
  expect((await m.paymentsOf(mismatched.order.id)).map((p) => p.status)).toEqual(['refunded'])
  expect((await m.order(mismatched.u.token, mismatched.order.id)).status).toBe('pending_payment')
  expect(await m.violations()).toEqual([])
}, 30_000)

test("a refund of an order's earlier payment batched after a new capture of that order is noted after `paid`, with status paid, as it would be one at a time", async () => {
  const { m, hooks, capturedCard, postOneBatch } = helpers(s)
  const first = await capturedCard()
  // Its request gave up on the gateway (the payment failed) while the card was captured: the capture is given back, its report cut.
  await s.database.write((tx) => tx.update(payments).set({ status: 'failed' }).where(eq(payments.id, first.payment.id)))
  const restore = m.cutWebhooks()
  try {
    expect((await hooks.post(first.capture)).status).toBe(200)
    await m.quiet()
    expect((await m.chargesOf(first.payment.id)).map((charge) => charge.status)).toEqual(['refunded'])
    // The customer pays again; that capture's report is owed too.
    const second = (await m.pay(first.u.token, first.order.id, card())).body
    await s.shop.services.gateway.idle()
    const [charge] = await m.chargesOf(second.id)
    const answers = await postOneBatch([await hooks.owedFor(charge!.ref, 'charge.paid'), await hooks.owedFor(first.ref, 'charge.refunded')])
    expect(await Promise.all(answers)).toEqual([200, 200])
  } finally {
    restore()
  }
  // The gateway's own deliveries of the two come again later: each applied once already.
  clock.advance(3000)
  await m.quiet()
  const { status, timeline } = await m.order(first.u.token, first.order.id)
  expect(status).toBe('paid')
  expect(entries(timeline)).toEqual(['pending_payment', 'paid', 'paid/payment_refunded'])
  expect(timeline[2].payment_id).toBe(first.payment.id)
  expect((await m.paymentsOf(first.order.id)).map((p) => p.status).sort()).toEqual(['paid', 'refunded'])
  expect(await m.violations()).toEqual([])
})

test('shutdown waits for the after-commit work a webhook left running: a refund held at the gateway lands before the event bus and the database close', async () => {
  const t = await startShop({ clock, env })
  const { m, hooks, capturedCard } = helpers(t)
  const mismatched = await capturedCard()
  const refunds = m.pauseRefunds()
  const { jobs: queue } = t.shop.services
  // Released as the job worker stops, the last worker before the after-commit work is waited for.
  const stopJobs = queue.stop.bind(queue)
  queue.stop = async () => {
    await stopJobs()
    refunds.release()
  }
  // What the refund had done when shutdown closed the event bus (the database closes after it).
  let atClose: unknown
  const closeEvents = t.deps.events.close.bind(t.deps.events)
  t.deps.events.close = async () => {
    const [charge] = await t.database.db.select({ status: fakeGatewayCharges.status }).from(fakeGatewayCharges).where(eq(fakeGatewayCharges.ref, mismatched.ref))
    const job = await t.database.db
      .select({ doneAt: jobs.doneAt })
      .from(jobs)
      .where(eq(jobs.dedupeKey, `refund:${mismatched.ref}`))
      .get()
    atClose = { charge: charge?.status, refundJobDone: Boolean(job?.doneAt) }
    return closeEvents()
  }
  try {
    let status: number | undefined
    void hooks.post({ ...mismatched.capture, amount: mismatched.payment.amount - 1 }).then((r) => (status = r.status))
    await refunds.paused
    await eventually(() => expect(status).toBe(200))
  } finally {
    await t.close()
  }
  expect(atClose).toEqual({ charge: 'refunded', refundJobDone: true })
}, 30_000)
