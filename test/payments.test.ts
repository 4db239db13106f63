import { describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { startShop, useShop, type TestShop } from './support/harness'
import { shopping } from './support/shopping'
import { ManualClock } from '../src/lib/clock'
import { crc16ccitt } from '../src/lib/pix'
import { payments, webhookEvents } from '../src/modules/payments/schema'
import { orderTimeline } from '../src/modules/orders/schema'
import { signWebhook } from '../src/modules/payments/signature'
import { PaymentsService } from '../src/modules/payments/service'
import { Idempotency } from '../src/modules/idempotency'
import { createLogger } from '../src/lib/logger'

let s: TestShop
let shop: ReturnType<typeof shopping>
const clock = new ManualClock(Date.now())
useShop((started) => ({ s, shop } = { s: started, shop: shopping(started) }), { clock })

const card = (number = '4242424242424242') => ({ method: 'card', card: { number, exp_month: 12, exp_year: new Date(clock.now()).getUTCFullYear() + 2, cvc: '123', holder: 'ANA SOUZA' } })
const pay = (token: string, orderId: string, body: unknown = card(), headers: Record<string, string> = {}) => s.request('POST', `/v1/orders/${orderId}/payments`, { token, body, headers })
const orderOf = (token: string, id: string) => s.request('GET', `/v1/orders/${id}`, { token }).then((r) => r.body)

const placed = (price = 1000) => shop.placedOrder({ price })

/** Posts a gateway event as the gateway would (or with the given signature). */
function webhook(event: Record<string, unknown>, signature?: string) {
  const body = JSON.stringify(event)
  return s.request('POST', '/v1/payments/webhook', {
    raw: body,
    headers: { 'content-type': 'application/json', 'shop-signature': signature ?? signWebhook(s.config.WEBHOOK_SECRET, body, Math.floor(clock.now() / 1000)) },
  })
}

describe('card payments', () => {
  test('an approved card: 201, then the order becomes paid through the webhook; only brand and last four are kept', async () => {
    const { u, order } = await placed()
    const res = await pay(u.token, order.id)
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ order_id: order.id, method: 'card', amount: order.order_total, currency: 'BRL', card: { brand: 'visa', last4: '4242' } })
    expect(['pending', 'paid']).toContain(res.body.status)
    await s.shop.services.gateway.idle()
    const paid = await orderOf(u.token, order.id)
    expect(paid).toMatchObject({ status: 'paid', paid_at: expect.any(String) })
    expect(paid.timeline.map((e: { status: string }) => e.status)).toEqual(['pending_payment', 'paid'])
    const list = await s.request('GET', `/v1/orders/${order.id}/payments`, { token: u.token })
    expect(list.body.data).toEqual([{ ...res.body, status: 'paid' }])
    const row = await s.database.db.select().from(payments).where(eq(payments.id, res.body.id)).get()
    expect(JSON.stringify(row)).not.toContain('4242424242424242')
    expect(JSON.stringify(row)).not.toContain('"123"')
  })

  test('the declined test card: 402 payment_declined, payment failed, order still awaiting payment; another card then works', async () => {
    const { u, order } = await placed()
    const res = await pay(u.token, order.id, card('4000000000000002'))
    expect(res.status).toBe(402)
    expect(res.body.code).toBe('payment_declined')
    const list = (await s.request('GET', `/v1/orders/${order.id}/payments`, { token: u.token })).body.data
    expect(list).toMatchObject([{ status: 'failed', card: { last4: '0002' } }])
    expect((await orderOf(u.token, order.id)).status).toBe('pending_payment')
    expect((await pay(u.token, order.id)).status).toBe(201)
    await s.shop.services.gateway.idle()
    expect((await orderOf(u.token, order.id)).status).toBe('paid')
  })

  test('422: a number failing Luhn, an expired card, a card missing or misplaced, unknown fields', async () => {
    const { u, order } = await placed()
    const year = new Date(clock.now()).getUTCFullYear()
    const bodies = [
      card('4242424242424241'),
      { method: 'card', card: { ...card().card, exp_year: year - 1 } },
      { method: 'card' },
      { method: 'pix', card: card().card },
      { method: 'boleto' },
      { ...card(), amount: 1 },
      { method: 'card', card: { ...card().card, number: '4242 4242 4242 4242' } },
    ]
    for (const body of bodies) {
      const res = await pay(u.token, order.id, body)
      expect(res.status).toBe(422)
      expect(res.body.code).toBe('validation_failed')
    }
    const luhn = await pay(u.token, order.id, card('4242424242424241'))
    expect(luhn.body.errors).toEqual([{ field: 'card.number', message: 'Not a valid card number' }])
    expect((await s.request('GET', `/v1/orders/${order.id}/payments`, { token: u.token })).body.data).toEqual([])
  })

  test('only the owner pays (404 for others, admins included); 409 once the order is not awaiting payment or a payment is live', async () => {
    const { u, order } = await placed()
    const stranger = await s.createUser()
    expect((await pay(stranger.token, order.id)).status).toBe(404)
    expect((await pay((await s.admin()).token, order.id)).status).toBe(404)
    expect((await s.request('GET', `/v1/orders/${order.id}/payments`, { token: stranger.token })).status).toBe(404)
    expect((await s.request('GET', `/v1/orders/${order.id}/payments`, { token: (await s.admin()).token })).status).toBe(200)
    const pix = await pay(u.token, order.id, { method: 'pix' })
    expect(pix.status).toBe(201)
    const second = await pay(u.token, order.id)
    expect(second.status).toBe(409)
    expect(second.body.code).toBe('conflict')
    await s.request('DELETE', `/v1/orders/${order.id}`, { token: u.token })
    expect((await pay(u.token, order.id)).status).toBe(409)
    expect((await pay(u.token, order.id)).body.code).toBe('conflict')
  })
})

describe('Pix', () => {
  test('a copy-and-paste code with a correct CRC16; simulate paid settles it through the webhook', async () => {
    const { u, order } = await placed(4948)
    const res = await pay(u.token, order.id, { method: 'pix' })
    expect(res.status).toBe(201)
    const code: string = res.body.pix.code
    expect(res.body).toMatchObject({ method: 'pix', status: 'pending', pix: { expires_at: order.payment_due_at } })
    expect(code).toStartWith('000201')
    expect(code).toContain('br.gov.bcb.pix')
    expect(code).toContain(`54${String((order.order_total / 100).toFixed(2).length).padStart(2, '0')}${(order.order_total / 100).toFixed(2)}`)
    expect(code.slice(-8, -4)).toBe('6304')
    expect(code.slice(-4)).toBe(crc16ccitt(code.slice(0, -4)))
    expect((await orderOf(u.token, order.id)).status).toBe('pending_payment')
    const simulated = await s.request('POST', `/v1/payments/${res.body.id}/simulate`, { token: u.token, body: { outcome: 'paid' } })
    expect(simulated.status).toBe(200)
    expect(simulated.body).toMatchObject({ id: res.body.id, status: 'paid' })
    expect((await orderOf(u.token, order.id)).status).toBe('paid')
    const again = await s.request('POST', `/v1/payments/${res.body.id}/simulate`, { token: u.token, body: { outcome: 'expired' } })
    expect(again.status).toBe(409)
  })

  test('simulate expired: the payment expires, the order still awaits payment and can be paid again', async () => {
    const { u, order } = await placed()
    const res = await pay(u.token, order.id, { method: 'pix' })
    const admin = await s.admin()
    const expired = await s.request('POST', `/v1/payments/${res.body.id}/simulate`, { token: admin.token, body: { outcome: 'expired' } })
    expect(expired.body.status).toBe('expired')
    expect((await orderOf(u.token, order.id)).status).toBe('pending_payment')
    expect((await pay(u.token, order.id, { method: 'pix' })).status).toBe(201)
  })

  test('simulate: 404 for a stranger or an unknown payment, 422 for another outcome, 401 without a token', async () => {
    const { u, order } = await placed()
    const res = await pay(u.token, order.id, { method: 'pix' })
    const stranger = await s.createUser()
    expect((await s.request('POST', `/v1/payments/${res.body.id}/simulate`, { token: stranger.token, body: { outcome: 'paid' } })).status).toBe(404)
    expect((await s.request('POST', '/v1/payments/nope/simulate', { token: u.token, body: { outcome: 'paid' } })).status).toBe(404)
    expect((await s.request('POST', `/v1/payments/${res.body.id}/simulate`, { token: u.token, body: { outcome: 'refunded' } })).status).toBe(422)
    expect((await s.request('POST', `/v1/payments/${res.body.id}/simulate`, { body: { outcome: 'paid' } })).status).toBe(401)
  })
})

describe('Idempotency-Key on payments', () => {
  test('20 concurrent retries with one key charge once; later retries replay the answer; another body is a conflict', async () => {
    const { u, order } = await placed()
    const results = await Promise.all(Array.from({ length: 20 }, () => pay(u.token, order.id, { method: 'pix' }, { 'idempotency-key': 'pay-1' })))
    const created = results.filter((r) => r.status === 201)
    expect(created.length).toBeGreaterThanOrEqual(1)
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1)
    // The rest either replayed the same answer or were told the first is still running.
    expect(results.every((r) => r.status === 201 || (r.status === 409 && r.body.code === 'conflict'))).toBe(true)
    expect(await s.database.db.select().from(payments).where(eq(payments.orderId, order.id))).toHaveLength(1)
    const replay = await pay(u.token, order.id, { method: 'pix' }, { 'idempotency-key': 'pay-1' })
    expect(replay.status).toBe(201)
    expect(replay.body).toEqual(created[0]!.body)
    const other = await pay(u.token, order.id, card(), { 'idempotency-key': 'pay-1' })
    expect(other.status).toBe(409)
    expect(other.body.code).toBe('conflict')
  })

  test('a declined payment replays as the same 402 without charging again', async () => {
    const { u, order } = await placed()
    const first = await pay(u.token, order.id, card('4000000000000002'), { 'idempotency-key': 'declined' })
    const second = await pay(u.token, order.id, card('4000000000000002'), { 'idempotency-key': 'declined' })
    expect([first.status, second.status]).toEqual([402, 402])
    expect(second.body.code).toBe('payment_declined')
    expect(await s.database.db.select().from(payments).where(eq(payments.orderId, order.id))).toHaveLength(1)
  })
})

describe('webhook', () => {
  async function pendingPix() {
    const { u, order } = await placed()
    const payment = (await pay(u.token, order.id, { method: 'pix' })).body
    const row = (await s.database.db.select().from(payments).where(eq(payments.id, payment.id)).get())!
    const event = { id: `evt_${payment.id}`, type: 'charge.paid', charge_ref: row.gatewayRef, payment_id: payment.id, amount: payment.amount, currency: 'BRL', created: 0 }
    return { u, order, payment, event }
  }

  test('a signed event marks the order paid; its replay answers 200 and changes nothing', async () => {
    const { u, order, event } = await pendingPix()
    const first = await webhook(event)
    expect(first.status).toBe(200)
    expect(first.body).toEqual({ received: true })
    const paid = await orderOf(u.token, order.id)
    expect(paid.status).toBe('paid')
    const replay = await webhook(event)
    expect(replay.status).toBe(200)
    expect(await orderOf(u.token, order.id)).toEqual(paid)
    expect(await s.database.db.select().from(orderTimeline).where(eq(orderTimeline.orderId, order.id))).toHaveLength(2)
    expect(await s.database.db.select().from(webhookEvents).where(eq(webhookEvents.id, event.id))).toMatchObject([{ outcome: 'applied' }])
  })

  test('401 for a missing, wrong or stale signature; nothing changes', async () => {
    const { u, order, event } = await pendingPix()
    const body = JSON.stringify(event)
    const now = Math.floor(clock.now() / 1000)
    const wrongSecret = signWebhook('not-the-secret-at-all', body, now)
    const stale = signWebhook(s.config.WEBHOOK_SECRET, body, now - 301)
    for (const signature of ['', 't=1,v1=', wrongSecret, stale, `t=${now},v1=${'0'.repeat(64)}`]) {
      const res = await webhook(event, signature)
      expect(res.status).toBe(401)
      expect(res.body.code).toBe('unauthorized')
      expect(res.headers.get('www-authenticate')).toBeNull()
    }
    // Signed for one body, sent with another.
    const tampered = await s.request('POST', '/v1/payments/webhook', {
      raw: JSON.stringify({ ...event, amount: 1 }),
      headers: { 'content-type': 'application/json', 'shop-signature': signWebhook(s.config.WEBHOOK_SECRET, body, now) },
    })
    expect(tampered.status).toBe(401)
    expect((await orderOf(u.token, order.id)).status).toBe('pending_payment')
    // Within the tolerance is fine.
    expect((await webhook(event, signWebhook(s.config.WEBHOOK_SECRET, body, now - 299))).status).toBe(200)
  })

  test('an amount that does not match never marks the order paid', async () => {
    const { u, order, event } = await pendingPix()
    expect((await webhook({ ...event, amount: event.amount - 1 })).status).toBe(200)
    expect((await webhook({ ...event, id: `${event.id}-2`, currency: 'USD' })).status).toBe(200)
    expect((await orderOf(u.token, order.id)).status).toBe('pending_payment')
    expect((await s.database.db.select().from(webhookEvents).where(eq(webhookEvents.id, event.id)).get())!.outcome).toBe('amount_mismatch')
  })

  test('an unknown payment is acknowledged and ignored; a foreign charge ref too', async () => {
    const { u, order, event } = await pendingPix()
    expect((await webhook({ ...event, id: 'evt-unknown', payment_id: 'nope' })).status).toBe(200)
    expect((await webhook({ ...event, id: 'evt-foreign', charge_ref: 'ch_other' })).status).toBe(200)
    expect((await orderOf(u.token, order.id)).status).toBe('pending_payment')
  })

  test('unsigned or wrongly signed: 401 before the body is read as JSON, whatever it holds or claims to be', async () => {
    const { u, order, event } = await pendingPix()
    const now = Math.floor(clock.now() / 1000)
    const valid = JSON.stringify(event)
    const bodies: { raw: string | Uint8Array; type?: string }[] = [
      { raw: '{"id": ', type: 'application/json' },
      { raw: new TextEncoder().encode('x') },
      { raw: 'x', type: 'text/plain' },
      { raw: valid, type: 'text/plain' },
      { raw: valid, type: 'application/json' },
    ]
    for (const { raw, type } of bodies) {
      for (const signature of [undefined, signWebhook('not-the-secret-at-all', raw, now)]) {
        const headers: Record<string, string> = {}
        if (type) headers['content-type'] = type
        if (signature) headers['shop-signature'] = signature
        const res = await s.request('POST', '/v1/payments/webhook', { raw, headers })
        expect({ type, signature: !!signature, status: res.status, code: res.body.code }).toEqual({ type, signature: !!signature, status: 401, code: 'unauthorized' })
      }
    }
    expect((await orderOf(u.token, order.id)).status).toBe('pending_payment')
  })

  test('signed: the signature covers the exact bytes and the content type does not matter; then 400 for non-JSON, 422 for no event', async () => {
    const now = Math.floor(clock.now() / 1000)
    const signed = (raw: string | Uint8Array, type?: string) =>
      s.request('POST', '/v1/payments/webhook', { raw, headers: { ...(type ? { 'content-type': type } : {}), 'shop-signature': signWebhook(s.config.WEBHOOK_SECRET, raw, now) } })
    const junk = '{"id": '
    expect((await signed(junk, 'application/json')).body).toMatchObject({ status: 400, code: 'malformed_json' })
    expect((await signed(junk, 'text/plain')).status).toBe(400)
    // Not UTF-8: text decoding would have changed these bytes and broken the signature.
    expect((await signed(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))).body).toMatchObject({ status: 400, code: 'malformed_json' })
    expect((await signed(JSON.stringify({ hello: 'world' }), 'application/json')).status).toBe(422)
    const { u, order, event } = await pendingPix()
    const asText = await signed(JSON.stringify(event), 'text/plain')
    expect(asText.status).toBe(200)
    expect((await orderOf(u.token, order.id)).status).toBe('paid')
    const other = await pendingPix()
    expect((await signed(new TextEncoder().encode(JSON.stringify(other.event)))).status).toBe(200)
    expect((await orderOf(other.u.token, other.order.id)).status).toBe('paid')
  })

  test('a body over 64 KiB answers 413 without being applied', async () => {
    const { u, order, event } = await pendingPix()
    const res = await webhook({ ...event, padding: 'x'.repeat(65 * 1024) })
    expect(res.status).toBe(413)
    expect(res.body.code).toBe('payload_too_large')
    expect((await orderOf(u.token, order.id)).status).toBe('pending_payment')
  })

  test('Shop-Signature: any of several v1 values may match (secret rotation); exactly one t is required', async () => {
    const now = Math.floor(clock.now() / 1000)
    const signatureOf = (event: Record<string, unknown>, secret = s.config.WEBHOOK_SECRET) => signWebhook(secret, JSON.stringify(event), now).split(',v1=')[1]!
    const rotating = await pendingPix()
    const oldSecret = signatureOf(rotating.event, 'the-previous-webhook-secret')
    expect((await webhook(rotating.event, `t=${now},v1=${signatureOf(rotating.event)},v1=${oldSecret}`)).status).toBe(200)
    expect((await orderOf(rotating.u.token, rotating.order.id)).status).toBe('paid')
    const reversed = await pendingPix()
    expect((await webhook(reversed.event, `t=${now}, v1=${'0'.repeat(64)}, v1=${signatureOf(reversed.event)}`)).status).toBe(200)
    const { u, order, event } = await pendingPix()
    const v1 = signatureOf(event)
    for (const header of [`t=${now - 3600},t=${now},v1=${v1}`, `t=${now},t=${now},v1=${v1}`, `v1=${v1}`, `t=${now},v1=${'0'.repeat(64)},v1=${'1'.repeat(64)}`, `t=${now},v1=`]) {
      const res = await webhook(event, header)
      expect({ header, status: res.status }).toEqual({ header, status: 401 })
    }
    expect((await orderOf(u.token, order.id)).status).toBe('pending_payment')
  })
})

describe('the payment workflow', () => {
  test('a gateway that fails after the payment opened: 503, the payment is failed and the key given back, so a retry acts', async () => {
    const { u, order } = await placed()
    const { orderLifecycle, orders, gateway, jobs } = s.shop.services
    const broken = new PaymentsService({
      database: s.database,
      clock,
      logger: createLogger('silent'),
      lifecycle: orderLifecycle,
      orders,
      // The fake gateway, except that charging fails as a network error would.
      gateway: Object.assign(Object.create(gateway), { createCharge: () => Promise.reject(new Error('ECONNRESET')) }),
      idempotency: new Idempotency(s.config.DATA_KEY),
      jobs,
      gatewayTimeoutMs: 1000,
      inFlightMs: 2000,
    })
    const error = await broken.pay({ id: u.id, roles: ['customer'] }, order.id, { method: 'pix' }, 'flaky').catch((e) => e)
    expect(error).toMatchObject({ status: 503, code: 'service_unavailable' })
    const rows = await s.database.db.select().from(payments).where(eq(payments.orderId, order.id))
    expect(rows.map((r) => r.status)).toEqual(['failed'])
    const retry = await pay(u.token, order.id, { method: 'pix' }, { 'idempotency-key': 'flaky' })
    expect(retry.status).toBe(201)
  })
})

describe('webhook and rate limits', () => {
  test('gateway events are never refused by the per-IP limit (they are signed, from few addresses)', async () => {
    const limited = await startShop({ clock, env: { RATE_LIMIT: 'on', RATE_LIMIT_ANONYMOUS: '2/1m' } })
    try {
      const body = JSON.stringify({ hello: 'world' })
      const statuses = []
      for (let i = 0; i < 5; i++) {
        const res = await limited.request('POST', '/v1/payments/webhook', {
          raw: body,
          headers: { 'content-type': 'application/json', 'shop-signature': signWebhook(limited.config.WEBHOOK_SECRET, body, Math.floor(clock.now() / 1000)) },
        })
        statuses.push(res.status)
      }
      expect(statuses).toEqual([422, 422, 422, 422, 422])
      // The same client on an ordinary anonymous route is limited.
      const anonymous = await Promise.all(Array.from({ length: 3 }, () => limited.request('GET', '/v1/regions')))
      expect(anonymous.map((r) => r.status)).toContain(429)
    } finally {
      await limited.close()
    }
  })
})
