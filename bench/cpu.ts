/**
 * Server CPU per request, in µs: what a route costs the shop, read from the kernel's count of
 * the server process's CPU time (user and system) over a wrk run, divided by the requests
 * served. Steadier than req/s on a shared box (another tenant slows the load generator and
 * the server alike, but hardly changes what a request costs), so use it to compare changes;
 * the budget itself stays req/s against the baseline (`bun run bench`).
 * `bun bench/cpu.ts [baseline,health,list,entry,entry-limited,list-uncached,detail-uncached,search-uncached] [--duration 4s] [--rounds 3]`
 * The `-uncached` targets run against a second shop with `CATALOG_CACHE_MS=0`: every request reads SQL.
 * `entry-limited`: the entry on a shop with `RATE_LIMIT=on`, as production runs (the bench's shops run with it off).
 */
import { parseArgs } from 'node:util'
import { DEFAULT_OUT } from './lib/cli'
import { spawnBaseline } from './lib/server'
import { pidOf } from './lib/proc'
import { CPU_WRK, serverCpu } from './lib/server-cpu'
import { ownTarget, type Target } from './lib/target'
import type { WrkOptions } from './lib/wrk'
import { seedCatalog } from './catalog'
import { SEARCH_TERMS } from './lib/shop'
import { prepareDrop } from './flash-sale'

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  allowPositionals: true,
  options: { duration: { type: 'string', default: '4s' }, rounds: { type: 'string', default: '3' } },
})
const what = (positionals[0] ?? 'baseline,health,list,entry').split(',')
const wrk = { ...CPU_WRK, duration: values.duration! }

async function measure(name: string, pid: number, options: WrkOptions) {
  const rounds = await serverCpu(pid, options, Number(values.rounds))
  console.log(`${name.padEnd(15)} µs of server CPU a request: ${rounds.map((r) => `${r.perRequest.toFixed(1)} (system ${r.system.toFixed(1)}, ${Math.round(r.rps)} req/s)`).join(' · ')}`)
}

/** As in a stampede: 100 units, the default waitlist, then sold_out. */
async function measureEntry(name: string, target: Target, pid: number) {
  const drop = await prepareDrop(target, { customers: 50_000, units: 100, openSeconds: 300 })
  await measure(name, pid, { ...wrk, method: 'POST', url: `${drop.base}/v1/flash-sales/drops/${drop.dropId}/entries`, tokens: drop.customers.map((c) => c.token) })
}

if (what.includes('baseline')) {
  const baseline = await spawnBaseline(DEFAULT_OUT)
  try {
    await measure('baseline', pidOf(baseline.url), { ...wrk, url: baseline.url })
  } finally {
    await baseline.stop()
  }
}
const target = await ownTarget(DEFAULT_OUT)
try {
  const pid = pidOf(target.url)
  if (what.includes('health')) await measure('health', pid, { ...wrk, url: `${target.url}/health` })
  if (what.includes('list')) {
    await seedCatalog(target)
    await measure('list', pid, { ...wrk, url: `${target.url}/v1/products?limit=20` })
  }
  if (what.includes('entry')) await measureEntry('entry', target, pid)
} finally {
  await target.close()
}

if (what.includes('entry-limited')) {
  // 50,000 customers in turn stay under the per-user entry limit (20 a minute by default): every answer is still sold_out.
  const limited = await ownTarget(DEFAULT_OUT, undefined, { env: { RATE_LIMIT: 'on' } })
  try {
    await measureEntry('entry-limited', limited, pidOf(limited.url))
  } finally {
    await limited.close()
  }
}

if (what.some((w) => w.endsWith('-uncached'))) {
  const uncached = await ownTarget(DEFAULT_OUT, undefined, { env: { CATALOG_CACHE_MS: '0' } })
  try {
    const pid = pidOf(uncached.url)
    const { productIds } = await seedCatalog(uncached)
    if (what.includes('list-uncached')) await measure('list-uncached', pid, { ...wrk, url: `${uncached.url}/v1/products?limit=20` })
    if (what.includes('detail-uncached')) await measure('detail-uncached', pid, { ...wrk, url: `${uncached.url}/v1/products/${productIds[0]}` })
    // A word of half the books' titles: a full page of matches, as the catalog scenario's searches.
    if (what.includes('search-uncached')) await measure('search-uncached', pid, { ...wrk, url: `${uncached.url}/v1/products?q=${encodeURIComponent(SEARCH_TERMS[0]!)}&limit=20` })
  } finally {
    await uncached.close()
  }
}
