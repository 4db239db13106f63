/**
 * Server CPU per order in the checkout scenario (bench/checkout.ts, unchanged): the shop
 * process's CPU time from the kernel, read when the customers start and again once every
 * order is paid (webhooks included), divided by the orders placed. Steadier than orders/s
 * on a shared box, where another tenant slows the load generator and the shop alike.
 * `bun bench/checkout-cpu.ts [--duration 10s] [--vus 64]`
 */
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { count, ne } from 'drizzle-orm'
import { orders } from '../src/modules/orders/schema'
import * as checkout from './checkout'
import { DEFAULT_OUT } from './lib/cli'
import { withOverrides } from './lib/options'
import { cpuTicks, pidOf } from './lib/proc'
import { runScript } from './lib/runner'
import { formatSummary } from './lib/summary'
import { ownTarget, type Target } from './lib/target'

const { values } = parseArgs({ args: process.argv.slice(2), options: { duration: { type: 'string', default: '10s' }, vus: { type: 'string', default: '64' } } })

async function countOrders(target: Target, unpaidOnly: boolean) {
  const { db } = (await target.fixtures()).database
  const [row] = await db
    .select({ n: count() })
    .from(orders)
    .where(unpaidOnly ? ne(orders.status, 'paid') : undefined)
  return row!.n
}

/** The webhooks land a moment after the last payment answer: their CPU belongs to the orders. */
async function settled(target: Target) {
  const deadline = Date.now() + 15_000
  while ((await countOrders(target, true)) > 0 && Date.now() < deadline) await Bun.sleep(20)
}

const load = loadavg()
const target = await ownTarget(DEFAULT_OUT)
try {
  const pid = pidOf(target.url)
  let start = cpuTicks(pid)
  let end = start
  const summary = await runScript(
    'checkout',
    {
      ...checkout,
      options: withOverrides(checkout.options, { duration: values.duration, vus: Number(values.vus) }),
      async setup(t: Target) {
        const data = await checkout.setup(t)
        start = cpuTicks(pid)
        return data
      },
      async teardown(data: unknown, t: Target) {
        await settled(t)
        end = cpuTicks(pid)
        await checkout.teardown(data as Parameters<typeof checkout.teardown>[0], t)
      },
    },
    target,
  )
  const placed = await countOrders(target, false)
  // Clock ticks are 10 ms: 10,000 µs each.
  const perOrder = (ticks: number) => ((ticks * 10_000) / placed).toFixed(0)
  const ordersPerSecond = summary.metrics.orders?.values.rate ?? 0
  // The orders/s threshold is the budget's business; this measures, so only checks and errors fail it.
  const sound = summary.checks.every((c) => c.fails === 0) && Object.keys(summary.errors).length === 0
  if (!sound) console.log(formatSummary(summary))
  console.log(
    `checkout: ${perOrder(end.user + end.system - start.user - start.system)} µs of server CPU an order (system ${perOrder(end.system - start.system)}), ${placed} orders, ${ordersPerSecond.toFixed(0)} orders/s, ${sound ? 'checks passed' : 'CHECKS FAILED'}, load average ${load.map((l) => l.toFixed(2)).join(' ')} at the start`,
  )
  process.exitCode = sound ? 0 : 99
} finally {
  await target.close()
}
