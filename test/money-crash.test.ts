// The server is killed (kill -9) in the middle of a burst of concurrent card and Pix payments,
// then started again on its database: once the reconciler has run, the money invariant holds
// and every order is paid, unpaid or payable (a retry of its payment, same Idempotency-Key, is
// accepted) — none stuck behind a payment that died with the process.
import { afterAll, expect, test } from 'bun:test'
import { and, eq, isNull } from 'drizzle-orm'
import { moneyViolations } from '../bench/lib/money'
import { openFixtures, type Fixtures } from '../bench/lib/fixtures'
import { payments } from '../src/modules/payments/schema'
import { createProduct, createRegion } from './support/fixtures'
import { eventually } from './support/eventually'
import { approvedCard } from './support/money'
import { productionEnv, scratchDir, serverProcess } from './support/server-process'
import { address } from './support/shopping'

const ORDERS = 60
const scratch = scratchDir()
let fixtures: Fixtures | undefined
afterAll(async () => {
  await fixtures?.close()
  scratch.remove()
})

const env: Record<string, string> = {
  ...productionEnv(scratch.dir),
  RATE_LIMIT: 'off',
  METRICS_TOKEN: 'metrics-token-0123456789',
  // A payment is in flight at most 2 × 500 ms; the reconciler looks four times a second.
  GATEWAY_TIMEOUT_MS: '500',
  RECONCILE_EVERY_MS: '250',
}

async function call(base: string, method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json().catch(() => null)) as any }
}

test('kill -9 during a burst of card and Pix payments: after the restart and the reconciler, the money adds up and no order is stuck', async () => {
  const first = serverProcess(env)
  let base = await first.url()
  fixtures = await openFixtures({ databaseUrl: env.DATABASE_URL!, jwtSecret: env.JWT_SECRET! })
  const region = await createRegion(fixtures.database)
  const product = await createProduct(fixtures.database, region.id, 1000, { price: 4990 })
  const customers = await fixtures.customers(ORDERS)
  const orders = await Promise.all(
    customers.map(async (customer, i) => {
      expect((await call(base, 'POST', '/v1/cart/items', customer.token, { product_id: product.id, quantity: 1 })).status).toBe(200)
      const order = await call(base, 'POST', '/v1/orders', customer.token, { shipping_address: address })
      expect(order.status).toBe(201)
      const body = i % 2 ? { method: 'pix' } : approvedCard()
      return { customer, id: order.body.id as string, body, key: `pay-${i}` }
    }),
  )

  // The burst; the process dies as soon as a few have answered, with the rest in flight. Sent a
  // millisecond apart: payments that queue together are written (and answered) as one batch, so
  // a burst sent in one go could all answer at once, before the kill.
  let answered = 0
  const burst: Promise<unknown>[] = []
  for (const o of orders) {
    burst.push(
      call(base, 'POST', `/v1/orders/${o.id}/payments`, o.customer.token, o.body, { 'idempotency-key': o.key }).then(
        () => ++answered === 3 && first.kill('SIGKILL'),
        () => undefined,
      ),
    )
    await Bun.sleep(1)
  }
  await eventually(() => expect(answered).toBeGreaterThanOrEqual(3), 20_000)
  await first.exited()
  await Promise.all(burst)
  expect(answered).toBeLessThan(ORDERS)
  const interrupted = await fixtures.database.db
    .select({ id: payments.id })
    .from(payments)
    .where(and(eq(payments.status, 'pending'), isNull(payments.gatewayRef)))

  const second = serverProcess(env)
  base = await second.url()
  try {
    // Every order awaiting payment takes a retry of its request (same key, same body) once the reconciler has dealt with what died.
    await eventually(async () => {
      for (const o of orders) {
        const order = await call(base, 'GET', `/v1/orders/${o.id}`, o.customer.token)
        expect(['paid', 'pending_payment']).toContain(order.body.status)
        if (order.body.status !== 'pending_payment') continue
        const retry = await call(base, 'POST', `/v1/orders/${o.id}/payments`, o.customer.token, o.body, { 'idempotency-key': o.key })
        expect([o.id, retry.status]).toEqual([o.id, 201])
      }
    }, 20_000)
    // The customers' banks pay the Pix codes still open; cards settle by webhook.
    for (const o of orders.filter((order) => order.body.method === 'pix')) {
      const live = (await call(base, 'GET', `/v1/orders/${o.id}/payments`, o.customer.token)).body.data.find((p: { status: string }) => p.status === 'pending')
      if (live) expect((await call(base, 'POST', `/v1/payments/${live.id}/simulate`, o.customer.token, { outcome: 'paid' })).status).toBe(200)
    }
    await eventually(async () => {
      const statuses = await Promise.all(orders.map((o) => call(base, 'GET', `/v1/orders/${o.id}`, o.customer.token).then((r) => r.body.status)))
      expect(statuses.filter((status) => status !== 'paid')).toEqual([])
      expect(await moneyViolations(fixtures!.database.db)).toEqual([])
    }, 20_000)
    const metrics = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${env.METRICS_TOKEN}` } })).text()
    expect(metrics).toContain('shop_payments_reconcile_passes_total{outcome="ok"}')
    const repairs = second.logLines().filter((line) => line.msg === 'reconciler repaired')
    console.log(
      `kill -9 after ${answered}/${ORDERS} answers: ${interrupted.length} payments interrupted between their row and their charge; reconciler repairs after restart: ${JSON.stringify(repairs.map((line) => line.action))}`,
    )
    for (const line of repairs) expect(line).toMatchObject({ level: 'warn', action: expect.any(String), payment_id: expect.any(String) })
  } finally {
    second.kill('SIGTERM')
    await second.exited()
  }
}, 90_000)
