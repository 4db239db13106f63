/**
 * SQL statements per checkout (cart add → order → card payment → its webhook), counted by
 * wrapping the driver's `prepare`: every statement the local libSQL driver runs is prepared
 * anew, so this is what the single writer pays per checkout. One checkout at a time, after a
 * warm-up. `bun bench/statements.ts [--checkouts 10]`
 */
import { parseArgs } from 'node:util'
import Database from 'libsql'
import { startShop } from '../test/support/harness'
import { address, shopping } from '../test/support/shopping'
import { APPROVED_CARD } from './lib/shop'

const { values } = parseArgs({ args: process.argv.slice(2), options: { checkouts: { type: 'string', default: '10' } } })
const checkouts = Number(values.checkouts)
const counts = new Map<string, number>()
let counting = false
// `libsql` is the native driver under @libsql/client (a dependency of it, not of ours).
const driver = Database.prototype as unknown as { prepare(sql: string): unknown }
const prepare = driver.prepare
driver.prepare = function (this: unknown, sql: string) {
  if (counting) counts.set(sql, (counts.get(sql) ?? 0) + 1)
  return prepare.call(this, sql)
}

const s = await startShop({ env: { LOG_LEVEL: 'warn' } })
try {
  const shop = shopping(s)
  const product = await shop.product(1_000_000)
  const checkout = async () => {
    const { token } = await s.createUser()
    const keyed = { 'idempotency-key': crypto.randomUUID() }
    await s.request('POST', '/v1/cart/items', { token, body: { product_id: product.id, quantity: 1 } })
    const order = await s.request('POST', '/v1/orders', { token, body: { shipping_address: address }, headers: keyed })
    const payment = await s.request('POST', `/v1/orders/${order.body.id}/payments`, { token, body: { method: 'card', card: APPROVED_CARD }, headers: { 'idempotency-key': crypto.randomUUID() } })
    if (payment.status !== 201) throw new Error(`payment answered ${payment.status}`)
    await s.shop.services.gateway.idle()
  }
  await checkout()
  counting = true
  for (let i = 0; i < checkouts; i++) await checkout()
  counting = false
  const rows = [...counts].sort((a, b) => b[1] - a[1])
  for (const [sql, n] of rows) console.log(`${(n / checkouts).toFixed(1).padStart(5)}  ${sql.slice(0, 140)}`)
  console.log(`${(rows.reduce((sum, [, n]) => sum + n, 0) / checkouts).toFixed(1).padStart(5)}  statements per checkout (3 of them the fixture user's BEGIN, INSERT, COMMIT)`)
} finally {
  await s.close()
}
