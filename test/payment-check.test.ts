import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { startShop, type TestShop } from './support/harness'
import { restartableShop } from './support/restart'
import { shopping } from './support/shopping'
import { ManualClock } from '../src/lib/clock'
import { jobs } from '../src/modules/jobs/schema'
import { stockMovements } from '../src/modules/catalog/schema'
import { fakeGatewayCharges, payments } from '../src/modules/payments/schema'

const DELAY = 60_000
let s: TestShop
let shop: ReturnType<typeof shopping>
const clock = new ManualClock(Date.now())
beforeAll(async () => {
  s = await startShop({ clock, env: { PAYMENT_CHECK_DELAY_MS: String(DELAY) } })
  shop = shopping(s)
})
afterAll(() => s.close())

const card = { method: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2099, cvc: '123', holder: 'ANA' } }

const placed = (target: TestShop = s) => shopping(target).placedOrder({ quantity: 2 })
const payByPix = (target: TestShop, token: string, orderId: string) => target.request('POST', `/v1/orders/${orderId}/payments`, { token, body: { method: 'pix' } }).then((r) => r.body)
const statusOf = (target: TestShop, token: string, orderId: string) => target.request('GET', `/v1/orders/${orderId}`, { token }).then((r) => r.body.status)
const checkJobOf = (target: TestShop, orderId: string) =>
  target.database.db
    .select()
    .from(jobs)
    .where(eq(jobs.dedupeKey, `payment-check:${orderId}`))
    .get()

describe('the payment check', () => {
  test('an order left unpaid becomes unpaid when the check is due, and its stock returns with ledger rows', async () => {
    const { p, u, order } = await placed()
    expect(await shop.stockOf(p.id)).toBe(8)
    clock.advance(DELAY - 1)
    await s.shop.services.jobs.runDue()
    expect((await s.request('GET', `/v1/orders/${order.id}`, { token: u.token })).body.status).toBe('pending_payment')
    clock.advance(1)
    await s.shop.services.jobs.runDue()
    const unpaid = (await s.request('GET', `/v1/orders/${order.id}`, { token: u.token })).body
    expect(unpaid.status).toBe('unpaid')
    expect(unpaid.timeline.map((e: { status: string }) => e.status)).toEqual(['pending_payment', 'unpaid'])
    expect(await shop.stockOf(p.id)).toBe(10)
    expect(await shop.ledgerSum(p.id)).toBe(10)
    const moves = await s.database.db.select().from(stockMovements).where(eq(stockMovements.ref, order.id))
    expect(moves.map((m) => [m.delta, m.reason])).toEqual([
      [-2, 'sale'],
      [2, 'cancellation'],
    ])
  })

  test('a paid order is left alone; running the check again changes nothing', async () => {
    const { p, u, order } = await placed()
    await s.request('POST', `/v1/orders/${order.id}/payments`, { token: u.token, body: card })
    await s.shop.services.gateway.idle()
    clock.advance(DELAY)
    await s.shop.services.jobs.runDue()
    await s.shop.services.payments.checkPayment(order.id)
    expect((await s.request('GET', `/v1/orders/${order.id}`, { token: u.token })).body.status).toBe('paid')
    expect(await shop.stockOf(p.id)).toBe(8)
  })

  test('a pending Pix is expired and cancelled at the gateway first: the bank can no longer pay it', async () => {
    const { u, order } = await placed()
    const pix = (await s.request('POST', `/v1/orders/${order.id}/payments`, { token: u.token, body: { method: 'pix' } })).body
    clock.advance(DELAY)
    await s.shop.services.jobs.runDue()
    expect((await s.request('GET', `/v1/orders/${order.id}`, { token: u.token })).body.status).toBe('unpaid')
    expect((await s.request('GET', `/v1/orders/${order.id}/payments`, { token: u.token })).body.data[0].status).toBe('expired')
    expect((await s.request('POST', `/v1/payments/${pix.id}/simulate`, { token: u.token, body: { outcome: 'paid' } })).status).toBe(409)
  })

  test('a charge paid at the gateway whose webhook has not landed is not turned unpaid: the check waits and retries', async () => {
    const { p, u, order } = await placed()
    const gateway = s.shop.services.gateway
    const restore = gateway.connect(async () => new Response(null, { status: 503 }))!
    try {
      expect((await s.request('POST', `/v1/orders/${order.id}/payments`, { token: u.token, body: card })).status).toBe(201)
      await gateway.idle()
      clock.advance(DELAY)
      await s.shop.services.jobs.runDue()
    } finally {
      gateway.connect(restore)
    }
    expect((await s.request('GET', `/v1/orders/${order.id}`, { token: u.token })).body.status).toBe('pending_payment')
    expect(await shop.stockOf(p.id)).toBe(8)
    const job = (await s.database.db
      .select()
      .from(jobs)
      .where(eq(jobs.dedupeKey, `payment-check:${order.id}`))
      .get())!
    expect(job).toMatchObject({ doneAt: null, failedAt: null, attempts: 1, lastError: expect.stringContaining('waiting for its webhook') })
  })

  test('a charge the gateway no longer knows cannot hold the order: the payment expires, the order becomes unpaid with its stock back', async () => {
    const { p, u, order } = await placed()
    const pix = await payByPix(s, u.token, order.id)
    // The provider lost or purged the charge.
    await s.database.write((tx) => tx.delete(fakeGatewayCharges).where(eq(fakeGatewayCharges.paymentId, pix.id)))
    clock.advance(DELAY)
    await s.shop.services.jobs.runDue()
    expect(await statusOf(s, u.token, order.id)).toBe('unpaid')
    expect((await s.database.db.select().from(payments).where(eq(payments.id, pix.id)).get())!.status).toBe('expired')
    expect(await shop.stockOf(p.id)).toBe(10)
    expect(await shop.ledgerSum(p.id)).toBe(10)
    expect(await checkJobOf(s, order.id)).toMatchObject({ doneAt: expect.any(String), failedAt: null, attempts: 1 })
  })
})

describe('across a restart (the fake gateway keeps its charges in the database)', () => {
  async function restarting(run: (server: Awaited<ReturnType<typeof restartableShop>>, clock: ManualClock) => Promise<void>) {
    const restartClock = new ManualClock(Date.now())
    const server = await restartableShop({ clock: restartClock, env: { PAYMENT_CHECK_DELAY_MS: String(DELAY) } })
    try {
      await run(server, restartClock)
    } finally {
      await server.close()
    }
  }

  test('a job due while the server was down runs when it comes back', () =>
    restarting(async (server, restartClock) => {
      const { p, u, order } = await placed(server.shop)
      const after = await server.restart(() => restartClock.advance(DELAY + 3600_000))
      await after.shop.services.jobs.runDue()
      expect(await statusOf(after, u.token, order.id)).toBe('unpaid')
      expect(await shopping(after).stockOf(p.id)).toBe(10)
      expect(await shopping(after).ledgerSum(p.id)).toBe(10)
    }))

  test('a Pix pending before the restart can still be paid after it', () =>
    restarting(async (server) => {
      const { u, order } = await placed(server.shop)
      const pix = await payByPix(server.shop, u.token, order.id)
      expect(pix.status).toBe('pending')
      const after = await server.restart()
      const simulated = await after.request('POST', `/v1/payments/${pix.id}/simulate`, { token: u.token, body: { outcome: 'paid' } })
      expect(simulated.status).toBe(200)
      expect(simulated.body).toMatchObject({ id: pix.id, status: 'paid' })
      expect(await statusOf(after, u.token, order.id)).toBe('paid')
      expect((await after.request('POST', `/v1/payments/${pix.id}/simulate`, { token: u.token, body: { outcome: 'paid' } })).status).toBe(409)
    }))

  test('a Pix pending before the restart and never paid: the check turns the order unpaid, its stock back, the code dead', () =>
    restarting(async (server, restartClock) => {
      const { p, u, order } = await placed(server.shop)
      const pix = await payByPix(server.shop, u.token, order.id)
      const after = await server.restart(() => restartClock.advance(DELAY))
      await after.shop.services.jobs.runDue()
      expect(await statusOf(after, u.token, order.id)).toBe('unpaid')
      expect((await after.request('GET', `/v1/orders/${order.id}/payments`, { token: u.token })).body.data).toMatchObject([{ id: pix.id, status: 'expired' }])
      expect(await shopping(after).stockOf(p.id)).toBe(10)
      expect(await shopping(after).ledgerSum(p.id)).toBe(10)
      expect(await checkJobOf(after, order.id)).toMatchObject({ doneAt: expect.any(String), failedAt: null })
      expect((await after.request('POST', `/v1/payments/${pix.id}/simulate`, { token: u.token, body: { outcome: 'paid' } })).status).toBe(409)
    }))

  test('a card paid at the gateway whose webhook never landed before the stop: sent again at start, the order becomes paid', () =>
    restarting(async (server) => {
      const { p, u, order } = await placed(server.shop)
      const gateway = server.shop.shop.services.gateway
      gateway.connect(async () => new Response(null, { status: 503 }))
      expect((await server.shop.request('POST', `/v1/orders/${order.id}/payments`, { token: u.token, body: card })).status).toBe(201)
      await gateway.idle()
      expect(await statusOf(server.shop, u.token, order.id)).toBe('pending_payment')
      const after = await server.restart()
      await after.shop.services.gateway.idle()
      expect(await statusOf(after, u.token, order.id)).toBe('paid')
      expect(await shopping(after).stockOf(p.id)).toBe(8)
    }))
})
