/**
 * SQL statements per checkout (cart add → order → card payment → its webhook) and what each
 * costs inside the driver, counted by wrapping libsql's statement methods: what the single
 * writer pays per checkout. One checkout at a time after a warm-up, or `--concurrent N` at
 * once (their orders then queue together and are written as batches).
 * `bun bench/statements.ts [--checkouts 10] [--concurrent 1]`
 */
import { parseArgs } from 'node:util'
import { startShop } from '../test/support/harness'
import { address, shopping } from '../test/support/shopping'
import { APPROVED_CARD } from './lib/shop'
import { statementCounts } from './lib/statement-counts'

const { values } = parseArgs({ args: process.argv.slice(2), options: { checkouts: { type: 'string', default: '10' }, concurrent: { type: 'string', default: '1' } } })
const checkouts = Number(values.checkouts)
const concurrent = Number(values.concurrent)
const counter = statementCounts()

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
  counter.start()
  for (let i = 0; i < checkouts; i += concurrent) await Promise.all(Array.from({ length: Math.min(concurrent, checkouts - i) }, checkout))
  counter.stop()
  const rows = [...counter.counts].sort((a, b) => b[1].n - a[1].n)
  const per = (x: number) => (x / checkouts).toFixed(1).padStart(5)
  console.log('  per   µs each  statement')
  for (const [sql, { n, ms }] of rows) console.log(`${per(n)}  ${((ms * 1000) / n).toFixed(1).padStart(7)}  ${sql.replace(/\s+/g, ' ').slice(0, 130)}`)
  const total = rows.reduce((sum, [, { n }]) => sum + n, 0)
  const time = rows.reduce((sum, [, { ms }]) => sum + ms, 0)
  console.log(`${per(total)}  statements per checkout (3 of them the fixture user's BEGIN, INSERT, COMMIT), ${((time * 1000) / checkouts).toFixed(0)} µs in the driver`)
} finally {
  await s.close()
}
