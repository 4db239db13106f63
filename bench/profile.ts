/**
 * Where the server's time goes: the shop runs under Bun's CPU profiler while wrk drives one
 * hot path (`list`, `detail`, `search`, `entry`) or a scenario script runs (`checkout`, `flash-sale`,
 * …), then the profile is written as markdown (`--cpu-prof-md`).
 * `bun bench/profile.ts list|detail|search|entry|list-uncached|detail-uncached|search-uncached|<scenario> [--duration 10s] [-e LOG_LEVEL=warn …]`
 * (`-uncached`: the shop runs with CATALOG_CACHE_MS=0, so every request reads SQL)
 * → bench/out/profile-<what>.md. For finding costs, not for figures (the profiler slows it).
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { DEFAULT_OUT } from './lib/cli'
import { benchRedis, ownTarget } from './lib/target'
import { runWrk } from './lib/wrk'
import { seedCatalog } from './catalog'
import { SEARCH_TERMS } from './lib/shop'
import { prepareDrop } from './flash-sale'
import { runScript, type Script } from './lib/runner'
import { withOverrides } from './lib/options'
import { formatSummary } from './lib/summary'

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  allowPositionals: true,
  options: { duration: { type: 'string', default: '10s' }, env: { type: 'string', short: 'e', multiple: true } },
})
const what = positionals[0] ?? 'list'
const uncached = what.endsWith('-uncached')
const path = uncached ? what.slice(0, -'-uncached'.length) : what
const env = { ...(uncached ? { CATALOG_CACHE_MS: '0' } : {}), ...Object.fromEntries((values.env ?? []).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)])) }
const name = `profile-${what}`
const target = await ownTarget(DEFAULT_OUT, process.env.REDIS_URL ? benchRedis(process.env.REDIS_URL) : undefined, {
  bunFlags: ['--cpu-prof-md', `--cpu-prof-dir=${DEFAULT_OUT}`, `--cpu-prof-name=${name}.md`],
  env,
})
try {
  const wrk = { threads: 2, connections: 64, duration: values.duration! }
  let result
  if (path === 'entry') {
    // As in a stampede: 100 units, the default waitlist, then sold_out.
    const drop = await prepareDrop(target, { customers: 50_000, units: 100, openSeconds: 120 })
    result = await runWrk({ ...wrk, method: 'POST', url: `${drop.base}/v1/flash-sales/drops/${drop.dropId}/entries`, tokens: drop.customers.map((c) => c.token) })
  } else if (!['list', 'detail', 'search'].includes(path)) {
    const script = (await import(`./${path}.ts`)) as Script
    const summary = await runScript(path, { ...script, options: withOverrides(script.options, { duration: values.duration }) }, target)
    console.log(formatSummary(summary))
  } else {
    const { productIds } = await seedCatalog(target)
    // search: the word cpu.ts measures (a full page of matches).
    const urls: Record<string, string> = {
      list: `${target.url}/v1/products?limit=20`,
      detail: `${target.url}/v1/products/${productIds[0]}`,
      search: `${target.url}/v1/products?q=${encodeURIComponent(SEARCH_TERMS[0]!)}&limit=20`,
    }
    result = await runWrk({ ...wrk, url: urls[path]! })
  }
  if (result) console.log(`${path}: ${Math.round(result.rps)} req/s, p99 ${result.latency.p99} ms`, result.by_status)
} finally {
  await target.close()
}
console.log(
  `profile: ${readdirSync(DEFAULT_OUT)
    .filter((f) => f.startsWith(name))
    .map((f) => join(DEFAULT_OUT, f))
    .join(', ')}`,
)
