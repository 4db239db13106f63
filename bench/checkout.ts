/**
 * Checkout: each VU is one customer doing cart → order → card payment, over and over.
 * Afterwards, from outside: every order got paid (through the signed webhook), each
 * product's ledger sums to its stock, which fell by exactly the units ordered, and the money
 * adds up against the gateway's own charges.
 */
import http from './lib/http'
import { Counter, check, exec } from './lib/k6'
import { runCli } from './lib/cli'
import type { Options } from './lib/options'
import type { Target } from './lib/target'
import { APPROVED_CARD, SHIPPING_ADDRESS, bearer, catalogProducts, createProducts, createRegion, listAll } from './lib/shop'
import { verifyLedgers, verifyMoney } from './lib/invariants'
import type { Account } from './lib/fixtures'

/** One customer per VU, so no two VUs share a cart: --vus may not exceed this. */
export const CUSTOMERS = 512
const PRODUCTS = 20
const STOCK = 10_000_000

export const options: Options = {
  scenarios: { checkout: { executor: 'constant-vus', vus: 64, duration: '10s' } },
  thresholds: {
    http_req_failed: ['rate<0.001'],
    checks: ['rate==1'],
    orders: ['rate>=1000'],
  },
}

const orders = new Counter('orders')
const checkouts = new Counter('checkouts')

interface CheckoutData {
  base: string
  admin: string
  productIds: string[]
  customers: Account[]
}

export async function setup(target: Target): Promise<CheckoutData> {
  const fixtures = await target.fixtures()
  const admin = await fixtures.admin()
  const region = await createRegion(target.url, admin.token)
  const products = await createProducts(target.url, admin.token, catalogProducts(region.id, PRODUCTS, STOCK))
  return { base: target.url, admin: admin.token, productIds: products.map((p) => p.id), customers: await fixtures.customers(CUSTOMERS) }
}

export default async function ({ base, productIds, customers }: CheckoutData) {
  const customer = customers[exec.vu.idInTest - 1]
  if (!customer) throw new Error(`VU ${exec.vu.idInTest} has no customer: run at most ${CUSTOMERS} VUs`)
  const productId = productIds[exec.scenario.iterationInTest % productIds.length]!
  const auth = bearer(customer.token)

  const cart = await http.post(`${base}/v1/cart/items`, JSON.stringify({ product_id: productId, quantity: 1 }), { ...auth, tags: { name: 'cart' } })
  if (!check(cart, { 'cart: 200': (r) => r.status === 200 })) return

  // A real client sends a key so that a retry after a timeout never pays twice.
  const idempotent = () => ({ ...auth.headers!, 'idempotency-key': crypto.randomUUID() })
  const order = await http.post(`${base}/v1/orders`, JSON.stringify({ shipping_address: SHIPPING_ADDRESS }), { headers: idempotent(), tags: { name: 'order' } })
  if (!check(order, { 'order: 201 pending_payment': (r) => r.status === 201 && r.json().status === 'pending_payment' })) return
  orders.add(1)

  const body = JSON.stringify({ method: 'card', card: APPROVED_CARD })
  const payment = await http.post(`${base}/v1/orders/${order.json().id}/payments`, body, { headers: idempotent(), tags: { name: 'payment' } })
  if (check(payment, { 'payment: 201': (r) => r.status === 201 })) checkouts.add(1)
}

/** Orders are paid by the gateway's webhook, a moment after the payment answer. */
async function settledOrders(base: string, admin: string, expected: (o: any[]) => boolean) {
  const deadline = Date.now() + 15_000
  for (;;) {
    const all = await listAll(`${base}/v1/orders`, admin)
    if (expected(all) || Date.now() > deadline) return all
    await Bun.sleep(250)
  }
}

export async function teardown({ base, admin, productIds }: CheckoutData, target: Target) {
  const all = await settledOrders(base, admin, (list) => list.every((o) => o.status === 'paid'))
  check(all, { 'invariant: every order is paid': (list) => list.length > 0 && list.every((o) => o.status === 'paid') })
  const ordered = new Map<string, number>()
  for (const o of all) for (const item of o.items) ordered.set(item.product_id, (ordered.get(item.product_id) ?? 0) + item.quantity)
  await verifyLedgers(
    base,
    admin,
    productIds.map((id) => ({ id, expectedStock: STOCK - (ordered.get(id) ?? 0) })),
  )
  await verifyMoney((await target.fixtures()).database.db)
}

if (import.meta.main) void runCli(import.meta.path)
