/**
 * `bun run bench`: every figure of the budget in one run, each next to a baseline taken
 * minutes apart on the same machine. wrk measures raw throughput (baseline, product list,
 * flash-sale entry); server CPU a request the uncached product list; each scenario then runs as its own process against a shop of its own;
 * the allocator's drain rate; on Redis, a WORKERS=2 row last (wrk and the write-heavy
 * scenarios against two server processes, with a baseline of its own). Prints the budget and
 * regenerates bench/RESULTS.md and the charts in bench/report.html (RESULTS-redis.md and
 * report-redis.html when REDIS_URL is set). Exit 1 when a budget line misses.
 */
import { cpus, loadavg, release, type } from 'node:os'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULT_OUT } from './lib/cli'
import { REPO, spawnBaseline } from './lib/server'
import { benchRedis, ownTarget, type Target } from './lib/target'
import { ensureWrk, runWrk, type WrkOptions } from './lib/wrk'
import { withKeptSections } from './lib/sections'
import { budget, renderResults, type Machine, type RunResults, type UncachedFigures, type WorkersFigures, type WrkFigures } from './lib/results'
import { pidOf } from './lib/proc'
import { CPU_WRK, serverCpu, UNCACHED_ROUND } from './lib/server-cpu'
import { renderReport } from './lib/report'
import type { Summary } from './lib/summary'
import type { DrainResult } from './allocator'
import { seedCatalog } from './catalog'
import { prepareDrop } from './flash-sale'

const WRK = { threads: 2, connections: 64, duration: '10s' }
const ENTRY_CUSTOMERS = 50_000
const ALLOCATOR_ENTRIES = 50_000
/** The server processes of the every-core row (it needs REDIS_URL, as WORKERS > 1 does). */
const WORKERS = 2
/** Rounds of the uncached-list CPU figure (the median is the budget's). */
const CPU_ROUNDS = 3
const WORKER_SCENARIOS = ['checkout', 'flash-sale']
const redisUrl = process.env.REDIS_URL
const out = DEFAULT_OUT

const COMMANDS: Record<string, string> = {
  baseline: 'bun bench/baseline.ts',
  catalog: 'bun bench/catalog.ts',
  checkout: 'bun bench/checkout.ts',
  'flash-sale': 'bun bench/flash-sale.ts',
  mixed: 'bun bench/mixed.ts',
  allocator: `bun bench/allocator.ts --entries ${ALLOCATOR_ENTRIES}`,
}

const log = (message: string) => console.error(`\n▶ ${message}`)

/** The code measured: its commit, and whether the work tree differed from it. */
function revision(): string {
  if (process.env.BENCH_COMMIT) return process.env.BENCH_COMMIT
  const git = (...args: string[]) => Bun.spawnSync(['git', '-C', REPO, ...args], { stdout: 'pipe', stderr: 'ignore' })
  const head = git('rev-parse', '--short', 'HEAD')
  if (head.exitCode !== 0) return 'unknown'
  // The results files are this command's output, not code.
  const dirty = git('status', '--porcelain', '--untracked-files=no', '--', '.', ':!bench/RESULTS*.md').stdout.toString().trim() !== ''
  return `${head.stdout.toString().trim()}${dirty ? ' (with uncommitted changes)' : ''}`
}

function machine(): Machine {
  return {
    revision: revision(),
    cores: cpus().length,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    bun: Bun.version,
    os: `${type()} ${release()}`,
    loadavg: loadavg(),
    date: new Date().toISOString(),
    mode: redisUrl ? 'redis' : 'in-process',
  }
}

/** wrk after a short warm-up (JIT, caches, connections), which is not counted. */
async function measured(options: WrkOptions) {
  await runWrk({ ...options, duration: '2s' })
  return runWrk(options)
}

/** Entries of ENTRY_CUSTOMERS customers in turn on a fresh drop of 100 units. */
async function entries(target: Target, waitlist?: number) {
  const drop = await prepareDrop(target, { customers: ENTRY_CUSTOMERS, units: 100, waitlist, openSeconds: 120 })
  return measured({ ...WRK, method: 'POST', url: `${drop.base}/v1/flash-sales/drops/${drop.dropId}/entries`, tokens: drop.customers.map((c) => c.token) })
}

async function wrkFigures(): Promise<WrkFigures> {
  log(`wrk baseline: raw Bun.serve, ${WRK.connections} connections`)
  const baselineServer = await spawnBaseline(out)
  const baseline = await measured({ ...WRK, url: baselineServer.url }).finally(() => baselineServer.stop())

  const target = await ownTarget(out, redisUrl ? benchRedis(redisUrl) : undefined)
  try {
    log('wrk: GET /health')
    const health = await measured({ ...WRK, url: `${target.url}/health` })
    log('wrk: GET /v1/products?limit=20')
    await seedCatalog(target)
    const list = await measured({ ...WRK, url: `${target.url}/v1/products?limit=20` })
    log(`wrk: POST …/entries as in a stampede (100 units, the default waitlist, then sold_out), ${ENTRY_CUSTOMERS} customers in turn`)
    const entry = await entries(target)
    log(`wrk: POST …/entries, every customer accepted (waitlist ${ENTRY_CUSTOMERS}; the allocator decides them meanwhile)`)
    const entryAccepted = await entries(target, ENTRY_CUSTOMERS)
    return { settings: WRK, baseline, health, list, entry: { ...entry, customers: ENTRY_CUSTOMERS }, entryAccepted: { ...entryAccepted, customers: ENTRY_CUSTOMERS } }
  } finally {
    await target.close()
  }
}

/** A scenario as its own process (fresh shop, fresh memory); its JSON summary is read back. `env`: the shop's settings (it inherits ours). */
async function scenario(name: string, env: Record<string, string> = {}, dir = out): Promise<Summary> {
  log(
    `scenario ${name}: ${Object.entries(env)
      .map(([k, v]) => `${k}=${v} `)
      .join('')}${COMMANDS[name]}`,
  )
  const child = Bun.spawn(['bun', `bench/${name}.ts`, '--out', dir], { cwd: REPO, stdout: 'inherit', stderr: 'inherit', env: { ...process.env, ...env } })
  const code = await child.exited
  if (code !== 0 && code !== 99) throw new Error(`scenario ${name} crashed (exit ${code})`)
  return JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'))
}

/** The every-core row: a baseline taken the same minute, then wrk and the write-heavy scenarios against a shop of WORKERS processes. */
async function workersFigures(redis: string): Promise<WorkersFigures> {
  log(`WORKERS=${WORKERS}: wrk baseline, then the product list and entries against ${WORKERS} server processes`)
  const baselineServer = await spawnBaseline(out)
  const baseline = await measured({ ...WRK, url: baselineServer.url }).finally(() => baselineServer.stop())
  const env = { WORKERS: String(WORKERS) }
  const target = await ownTarget(out, benchRedis(redis), { env })
  let wrk: WorkersFigures['wrk']
  try {
    await seedCatalog(target)
    const list = await measured({ ...WRK, url: `${target.url}/v1/products?limit=20` })
    const entry = await entries(target)
    wrk = { baseline, list, entry: { ...entry, customers: ENTRY_CUSTOMERS } }
  } finally {
    await target.close()
  }
  const scenarios: Record<string, Summary> = {}
  for (const name of WORKER_SCENARIOS) scenarios[name] = await scenario(name, env, join(out, `workers-${WORKERS}`))
  return { workers: WORKERS, wrk, scenarios }
}

/** The product list with the cache off, against the baseline, in µs of server CPU a request (each its own server). */
async function uncachedFigures(): Promise<UncachedFigures> {
  const options = { ...CPU_WRK, duration: UNCACHED_ROUND }
  log('server CPU a request: baseline, then `GET /v1/products?limit=20` with CATALOG_CACHE_MS=0')
  const baselineServer = await spawnBaseline(out)
  const baseline = await serverCpu(pidOf(baselineServer.url), { ...options, url: baselineServer.url }, CPU_ROUNDS).finally(() => baselineServer.stop())
  const target = await ownTarget(out, redisUrl ? benchRedis(redisUrl) : undefined, { env: { CATALOG_CACHE_MS: '0' } })
  try {
    await seedCatalog(target)
    const list = await serverCpu(pidOf(target.url), { ...options, url: `${target.url}/v1/products?limit=20` }, CPU_ROUNDS)
    return { baseline: baseline.map((r) => r.perRequest), list: list.map((r) => r.perRequest) }
  } finally {
    await target.close()
  }
}

async function allocatorDrain(): Promise<DrainResult> {
  log(`allocator drain: ${COMMANDS.allocator}`)
  const child = Bun.spawn(['bun', 'bench/allocator.ts', '--entries', String(ALLOCATOR_ENTRIES), '--out', out], { cwd: REPO, stdout: 'inherit', stderr: 'inherit', env: process.env })
  const code = await child.exited
  if (code !== 0 && code !== 99) throw new Error(`allocator bench crashed (exit ${code})`)
  return JSON.parse(readFileSync(join(out, 'allocator.json'), 'utf8'))
}

ensureWrk()
const started = machine()
const wrk = await wrkFigures()
const uncached = await uncachedFigures()
const scenarios: Record<string, Summary> = {}
for (const name of ['baseline', 'catalog', 'checkout', 'flash-sale', 'mixed']) scenarios[name] = await scenario(name)
const allocator = await allocatorDrain()
const workers = redisUrl ? await workersFigures(redisUrl) : undefined
const results: RunResults = { command: redisUrl ? 'REDIS_URL=… bun run bench' : 'bun run bench', machine: started, wrk, uncached, scenarios, allocator, workers }

const file = join(REPO, 'bench', redisUrl ? 'RESULTS-redis.md' : 'RESULTS.md')
writeFileSync(file, withKeptSections(file, renderResults(results, COMMANDS)))
const report = join(REPO, 'bench', redisUrl ? 'report-redis.html' : 'report.html')
writeFileSync(report, renderReport(results))
const lines = budget(results)
console.log('\nBUDGET')
for (const b of lines) console.log(`  ${b.ok ? '✓' : '✗'} ${b.item.padEnd(58)} ${b.target.padEnd(22)} ${b.measured}`)
console.log(`\nwrote ${file} and ${report}`)
process.exitCode = lines.every((b) => b.ok) ? 0 : 1
