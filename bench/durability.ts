/**
 * What durable acceptance costs the entry route: wrk on `POST …/entries` (every customer
 * accepted, so each answer is a write) against the shop on three redis-servers of this run's
 * own, each on a fresh directory of this disk: no AOF, `appendfsync everysec`, and
 * `appendfsync always` (an entry is on disk before its 202). Rounds alternate the servers so
 * a noisy neighbour moves all three alike; a raw Bun.serve baseline runs first. Writes its
 * table into bench/RESULTS-redis.md (between the `durability` markers).
 * `bun bench/durability.ts [--duration 8s] [--rounds 2]`
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { DEFAULT_OUT } from './lib/cli'
import { REPO, spawnBaseline } from './lib/server'
import { ownTarget } from './lib/target'
import { ensureWrk, runWrk, type WrkResult } from './lib/wrk'
import { prepareDrop } from './flash-sale'
import { writeSection } from './lib/sections'

const { values } = parseArgs({ args: process.argv.slice(2), options: { duration: { type: 'string', default: '4s' }, rounds: { type: 'string', default: '3' } } })
const WRK = { threads: 2, connections: 64, duration: values.duration! }
// More customers than requests: every answer is a first entry (202, a write), never a repeat.
const CUSTOMERS = 90_000
/** Customers kept for the one-at-a-time run. */
const SEQUENTIAL = 15_000
const MODES = {
  'appendonly no': ['--appendonly', 'no'],
  'appendfsync everysec': ['--appendonly', 'yes', '--appendfsync', 'everysec'],
  'appendfsync always': ['--appendonly', 'yes', '--appendfsync', 'always'],
}
type Mode = keyof typeof MODES

/** A redis-server on a free port and a fresh directory under the repository (a real disk: tmpfs would make fsync free). */
async function redisServer(args: string[]) {
  const dir = mkdtempSync(join(REPO, '.bench-redis-'))
  const probe = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = probe.port!
  probe.stop(true)
  const child = Bun.spawn(['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, ...args], { stdout: 'ignore', stderr: 'inherit' })
  for (
    let i = 0;
    Bun.spawnSync(['redis-cli', '-p', String(port), 'ping'])
      .stdout.toString()
      .trim() !== 'PONG';
    i++
  ) {
    if (i > 100) throw new Error('redis-server did not start')
    await Bun.sleep(50)
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM')
      await child.exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** One customer at a time (what one write costs: the round trip and, with `always`, the fsync), then 64 connections at once. */
async function entryRun(mode: Mode): Promise<{ one: WrkResult; many: WrkResult }> {
  const redis = await redisServer(MODES[mode])
  const target = await ownTarget(DEFAULT_OUT, { url: redis.url, prefix: 'bench:' }, { env: { REDIS_DURABILITY: 'off' } })
  try {
    const drop = await prepareDrop(target, { customers: CUSTOMERS, units: 100, waitlist: CUSTOMERS, openSeconds: 300 })
    const tokens = drop.customers.map((c) => c.token)
    const url = `${drop.base}/v1/flash-sales/drops/${drop.dropId}/entries`
    // Warm-up on a read, so no customer is spent before the measured runs; the two runs take disjoint customers.
    await runWrk({ ...WRK, url: `${target.url}/health`, duration: '2s' })
    const one = await runWrk({ ...WRK, threads: 1, connections: 1, method: 'POST', url, tokens: tokens.slice(0, SEQUENTIAL) })
    const many = await runWrk({ ...WRK, method: 'POST', url, tokens: tokens.slice(SEQUENTIAL) })
    return { one, many }
  } finally {
    await target.close()
    await redis.stop()
  }
}

ensureWrk()
const load = loadavg()
const baselineServer = await spawnBaseline(DEFAULT_OUT)
const baseline = await runWrk({ ...WRK, url: baselineServer.url }).finally(() => baselineServer.stop())
console.error(`baseline ${baseline.rps.toFixed(0)} req/s`)
const runs: Record<Mode, { one: WrkResult; many: WrkResult }[]> = { 'appendonly no': [], 'appendfsync everysec': [], 'appendfsync always': [] }
for (let round = 0; round < Number(values.rounds); round++) {
  const order = (Object.keys(MODES) as Mode[])[round % 2 ? 'reverse' : 'slice']()
  for (const mode of order) {
    const result = await entryRun(mode)
    runs[mode].push(result)
    console.error(
      `${mode}: one at a time p50 ${result.one.latency.p50} ms; 64 at once ${result.many.rps.toFixed(0)} req/s, p99 ${result.many.latency.p99} ms, ${JSON.stringify(result.many.by_status)}`,
    )
  }
}

// Medians: on a shared box one round can be slowed by a neighbour.
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const fmt = (n: number) => Math.round(n).toLocaleString('en')
const none = median(runs['appendonly no'].map((r) => r.many.rps))
const rows = (Object.keys(MODES) as Mode[]).map((mode) => {
  const rs = runs[mode]
  const rps = median(rs.map((r) => r.many.rps))
  const statuses = [...new Set(rs.flatMap((r) => [...Object.keys(r.one.by_status), ...Object.keys(r.many.by_status)]))].join(', ')
  return `| Redis \`${mode}\` | ${median(rs.map((r) => r.one.latency.p50)).toFixed(2)} ms (${fmt(median(rs.map((r) => r.one.rps)))} req/s) | ${fmt(rps)} req/s = ${((rps / baseline.rps) * 100).toFixed(1)} % of baseline, ${((rps / none) * 100).toFixed(0)} % of no AOF (rounds: ${rs.map((r) => fmt(r.many.rps)).join(' · ')}) | ${median(rs.map((r) => r.many.latency.p50)).toFixed(1)} ms | ${median(rs.map((r) => r.many.latency.p99)).toFixed(1)} ms | ${statuses} |`
})
const section = `## What durable acceptance costs the entry route

\`bun bench/durability.ts\` (${new Date().toISOString().slice(0, 16)}Z, load average ${load.map((l) => l.toFixed(2)).join(' ')} at the start): \`POST …/entries\`, each
request a customer's first entry (202, a write), on three redis-servers of the run's own (fresh,
on this machine's ext4 disk, no RDB snapshots), median of ${values.rounds} rounds alternating them. One at
a time: wrk 1 connection for ${WRK.duration} (the cost of one write: round trip, and with \`always\`
the fsync before the answer). At once: wrk ${WRK.threads} threads, ${WRK.connections} connections, ${WRK.duration}. Baseline (raw
Bun.serve, same settings): ${fmt(baseline.rps)} req/s.

| Redis | one at a time: p50 | ${WRK.connections} at once: throughput | p50 | p99 | answers |
|---|---|---|---|---|---|
${rows.join('\n')}

\`appendfsync always\` is what makes a 202 survive a Redis crash (test/flash-sale-durability).
Redis fsyncs once per turn of its event loop: one at a time, \`always\` adds an fsync to every
answer; at once, one fsync covers every entry that arrived together (auto-pipelining sends them
together), so throughput falls far less than latency rises. On a shared machine rounds vary by
several times (the load average above): compare the three within a round.`
writeSection(join(REPO, 'bench/RESULTS-redis.md'), 'durability', section)
console.log(section)
