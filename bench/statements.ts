/**
 * SQL statements per checkout (cart add → order → card payment → its webhook) and what each
 * costs inside the driver, counted by wrapping libsql's statement methods: what the single
 * writer pays per checkout. One checkout at a time after a warm-up, or `--concurrent N` at
 * once (their orders then queue together and are written as batches).
 * `bun bench/statements.ts [--checkouts 10] [--concurrent 1]`
 */
import { parseArgs } from 'node:util'
import Database from 'libsql'
import { startShop } from '../test/support/harness'
import { address, shopping } from '../test/support/shopping'
import { APPROVED_CARD } from './lib/shop'

const { values } = parseArgs({ args: process.argv.slice(2), options: { checkouts: { type: 'string', default: '10' }, concurrent: { type: 'string', default: '1' } } })
const checkouts = Number(values.checkouts)
const concurrent = Number(values.concurrent)
const counts = new Map<string, { n: number; ms: number }>()
let counting = false

// Statements are prepared once and kept (src/db/local-client.ts): tag each with its SQL when
// prepared, then count and time every run of it.
type Tagged = { sql?: string; run(...a: unknown[]): unknown; all(...a: unknown[]): unknown }
const database = Database.prototype as unknown as { prepare(sql: string): Tagged }
const prepare = database.prepare
database.prepare = function (this: unknown, sql: string) {
  const statement = prepare.call(this, sql)
  statement.sql = sql
  return statement
}
const statementPrototype = Object.getPrototypeOf(new Database(':memory:').prepare('SELECT 1')) as Tagged
for (const method of ['run', 'all'] as const) {
  const original = statementPrototype[method]
  statementPrototype[method] = function (this: Tagged, ...args: unknown[]) {
    const started = performance.now()
    try {
      return original.apply(this, args)
    } finally {
      if (counting && this.sql) {
        const entry = counts.get(this.sql) ?? { n: 0, ms: 0 }
        entry.n++
        entry.ms += performance.now() - started
        counts.set(this.sql, entry)
      }
    }
  }
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
  for (let i = 0; i < checkouts; i += concurrent) await Promise.all(Array.from({ length: Math.min(concurrent, checkouts - i) }, checkout))
  counting = false
  const rows = [...counts].sort((a, b) => b[1].n - a[1].n)
  const per = (x: number) => (x / checkouts).toFixed(1).padStart(5)
  console.log('  per   µs each  statement')
  for (const [sql, { n, ms }] of rows) console.log(`${per(n)}  ${((ms * 1000) / n).toFixed(1).padStart(7)}  ${sql.replace(/\s+/g, ' ').slice(0, 130)}`)
  const total = rows.reduce((sum, [, { n }]) => sum + n, 0)
  const time = rows.reduce((sum, [, { ms }]) => sum + ms, 0)
  console.log(`${per(total)}  statements per checkout (3 of them the fixture user's BEGIN, INSERT, COMMIT), ${((time * 1000) / checkouts).toFixed(0)} µs in the driver`)
} finally {
  await s.close()
}
