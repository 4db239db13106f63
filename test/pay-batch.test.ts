import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { count } from 'drizzle-orm'
import { statementCounts } from '../bench/lib/statement-counts'
import { fakeGatewayCharges, payments } from '../src/modules/payments/schema'
import { startShop, type TestShop } from './support/harness'
import { approvedCard, money } from './support/money'
import { shopping } from './support/shopping'
import { holdWriter } from './support/hold-writer'

// Installed before the shop prepares its statements, so each is tagged with its SQL.
const counter = statementCounts()
let s: TestShop
let shop: ReturnType<typeof shopping>
let m: ReturnType<typeof money>
beforeAll(async () => {
  s = await startShop()
  shop = shopping(s)
  m = money(s)
})
afterAll(async () => {
  await s.close()
  counter.restore()
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const chargesMade = async () => (await s.database.db.select({ n: count() }).from(fakeGatewayCharges).get())!.n
const DECLINED = { method: 'card', card: { ...approvedCard().card, number: '4000000000000002' } }
const NOT_LUHN = { method: 'card', card: { ...approvedCard().card, number: '4242424242424241' } }

/** The payments' own group statements: the orders read to open them, and the UPDATE that records their charges. */
const OPEN_READ = /"order_terms"\."id" IN \(SELECT value FROM json_each/
const RECORD_UPDATE = /^update "payments" set .*AS charge_payment_id/

describe('batched payments', () => {
  test('customers paying at once, opened in one write and recorded in one: each payment keeps its own answer, and the money adds up', async () => {
    const approved = await Promise.all(Array.from({ length: 6 }, () => shop.placedOrder()))
    const declined = await shop.placedOrder()
    const badCard = await shop.placedOrder()
    const stranger = await s.createUser()
    const twice = await shop.placedOrder()
    const cancelled = await shop.placedOrder()
    expect((await s.request('DELETE', `/v1/orders/${cancelled.order.id}`, { token: cancelled.u.token })).status).toBe(200)
    const replaying = await shop.placedOrder()
    const earlier = await m.pay(replaying.u.token, replaying.order.id, approvedCard(), { 'idempotency-key': 'pay-1' })
    expect(earlier.status).toBe(201)
    const reusing = await shop.placedOrder()
    expect((await m.pay(reusing.u.token, reusing.order.id, approvedCard(), { 'idempotency-key': 'pay-2' })).status).toBe(201)
    await m.quiet()
    const chargesBefore = await chargesMade()

    // Every charge stops once the gateway has answered, so their records queue up together too.
    const paused = m.pauseCharges('after')
    counter.start()
    const releaseOpens = holdWriter(s.database)
    const sent = [
      ...approved.map(({ u, order }) => m.pay(u.token, order.id)),
      m.pay(declined.u.token, declined.order.id, DECLINED),
      m.pay(badCard.u.token, badCard.order.id, NOT_LUHN),
      m.pay(stranger.token, approved[0]!.order.id),
      m.pay(twice.u.token, twice.order.id),
      m.pay(twice.u.token, twice.order.id),
      m.pay(cancelled.u.token, cancelled.order.id),
      m.pay(replaying.u.token, replaying.order.id, approvedCard(), { 'idempotency-key': 'pay-1' }),
      m.pay(reusing.u.token, reusing.order.id, approvedCard(new Date().getUTCFullYear() + 3), { 'idempotency-key': 'pay-2' }),
    ]
    await sleep(300)
    await releaseOpens()
    // Approved, declined, and one of `twice`'s two.
    const charged = approved.length + 2
    while ((await chargesMade()) < chargesBefore + charged) await sleep(10)
    const releaseRecords = holdWriter(s.database)
    paused.release()
    await sleep(100)
    await releaseRecords()
    const answers = await Promise.all(sent)
    counter.stop()
    paused.restore()

    const [declinedAnswer, badCardAnswer, strangerAnswer, twiceA, twiceB, cancelledAnswer, replayed, reused] = answers.slice(approved.length)
    for (const [i, answer] of answers.slice(0, approved.length).entries()) {
      expect(answer.status).toBe(201)
      expect(answer.body).toMatchObject({ order_id: approved[i]!.order.id, card: { last4: '4242' } })
    }
    expect(declinedAnswer!.status).toBe(402)
    expect(declinedAnswer!.body.code).toBe('payment_declined')
    expect(badCardAnswer!.status).toBe(422)
    expect(strangerAnswer!.status).toBe(404)
    expect([twiceA!.status, twiceB!.status].sort()).toEqual([201, 409])
    const twiceRefused = twiceA!.status === 409 ? twiceA! : twiceB!
    expect(twiceRefused.body).toMatchObject({ code: 'conflict', payment_id: (twiceA!.status === 201 ? twiceA! : twiceB!).body.id })
    expect(cancelledAnswer!.status).toBe(409)
    expect(cancelledAnswer!.body).toMatchObject({ code: 'conflict', detail: expect.stringContaining('does not await payment') })
    expect(replayed!.status).toBe(201)
    expect(replayed!.body).toEqual(earlier.body)
    expect(reused!.status).toBe(409)
    expect(reused!.body).toMatchObject({ code: 'conflict', detail: expect.stringContaining('another request') })

    // One group for every customer's first request, one for `twice`'s second; the records in one or two.
    expect(counter.runsOf(OPEN_READ)).toBe(2)
    expect(counter.runsOf(RECORD_UPDATE)).toBeLessThanOrEqual(2)
    expect(counter.runsOf(RECORD_UPDATE)).toBeGreaterThan(0)

    expect(await m.violations()).toEqual([])
    for (const { u, order } of approved) expect((await m.order(u.token, order.id)).status).toBe('paid')
    expect((await m.paymentsOf(approved[0]!.order.id)).length).toBe(1)
    expect((await m.paymentsOf(declined.order.id)).map((p) => p.status)).toEqual(['failed'])
    expect((await m.order(declined.u.token, declined.order.id)).status).toBe('pending_payment')
    expect(await m.paymentsOf(badCard.order.id)).toEqual([])
    expect(await m.paymentsOf(cancelled.order.id)).toEqual([])
    expect((await m.paymentsOf(twice.order.id)).map((p) => p.status)).toEqual(['paid'])
    expect((await m.paymentsOf(replaying.order.id)).length).toBe(1)
    expect((await m.paymentsOf(reusing.order.id)).length).toBe(1)
    // The refused requests wrote no payment: the two paid before, and one per charge.
    expect(await s.database.db.select({ n: count() }).from(payments).get()).toEqual({ n: 2 + charged })
  })
})
