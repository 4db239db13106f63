import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eq } from 'drizzle-orm'
import { startShop, type TestShop } from './support/harness'
import { shopping } from './support/shopping'
import { ManualClock } from '../src/lib/clock'
import { jobs } from '../src/modules/jobs/schema'
import { stockMovements } from '../src/modules/inventory/schema'

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
    expect(moves.map((m) => [m.delta, m.reason])).toEqual([[-2, 'sale'], [2, 'cancellation']])
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
    const job = (await s.database.db.select().from(jobs).where(eq(jobs.dedupeKey, `payment-check:${order.id}`)).get())!
    expect(job).toMatchObject({ doneAt: null, failedAt: null, attempts: 1, lastError: expect.stringContaining('waiting for its webhook') })
  })

  test('a job due while the server was down runs when it comes back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shop-restart-'))
    const databaseUrl = `file:${join(dir, 'shop.db')}`
    const env = { JWT_SECRET: 'a-shared-secret-of-at-least-32-chars!!', DATA_KEY: Buffer.alloc(32, 9).toString('base64'), PAYMENT_CHECK_DELAY_MS: String(DELAY) }
    const restartClock = new ManualClock(Date.now())
    try {
      const before = await startShop({ clock: restartClock, databaseUrl, env })
      const { p, u, order } = await placed(before)
      await before.close()
      restartClock.advance(DELAY + 3600_000)
      const after = await startShop({ clock: restartClock, databaseUrl, env })
      try {
        await after.shop.services.jobs.runDue()
        expect((await after.request('GET', `/v1/orders/${order.id}`, { token: u.token })).body.status).toBe('unpaid')
        expect(await shopping(after).stockOf(p.id)).toBe(10)
        expect(await shopping(after).ledgerSum(p.id)).toBe(10)
      } finally {
        await after.close()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
