/** The budget verdicts and bench/RESULTS.md, from one run's figures. Nothing here is typed by hand. */
import type { Summary } from './summary'
import type { WrkResult } from './wrk'
import type { DrainResult } from '../allocator'
import { CPU_WRK, median, UNCACHED_ROUND } from './server-cpu'

export interface Machine {
  /** The commit measured (BENCH_COMMIT, or git's HEAD and whether the tree was dirty). */
  revision: string
  cores: number
  cpu: string
  bun: string
  os: string
  /** 1, 5 and 15 minute load averages when the run started. */
  loadavg: number[]
  date: string
  mode: 'in-process' | 'redis'
}

export interface WrkFigures {
  settings: { threads: number; connections: number; duration: string }
  baseline: WrkResult
  /** The cheapest route: what every request pays for the shared plugins (ids, headers, log line, metrics). */
  health: WrkResult
  list: WrkResult
  /** As in a stampede: 100 units, the default waitlist, then sold_out. */
  entry: WrkResult & { customers: number }
  /** Every customer's first entry accepted, the allocator deciding them meanwhile. */
  entryAccepted: WrkResult & { customers: number }
}

/** The every-core row: the same figures against WORKERS server processes (on Redis), with a baseline of its own minute. */
export interface WorkersFigures {
  workers: number
  wrk: Pick<WrkFigures, 'baseline' | 'list' | 'entry'>
  /** checkout and flash-sale. */
  scenarios: Record<string, Summary>
}

/** The product list with the catalog cache off, in µs of server CPU a request (bench/lib/server-cpu.ts), next to the baseline's. */
export interface UncachedFigures {
  baseline: number[]
  list: number[]
}

export interface RunResults {
  command: string
  machine: Machine
  wrk: WrkFigures
  uncached: UncachedFigures
  scenarios: Record<string, Summary>
  allocator: DrainResult
  workers?: WorkersFigures
}

export interface BudgetLine {
  item: string
  /** The floor a run must meet (issue 16's table). */
  target: string
  /** Where the work is headed; not a verdict. */
  goal: string
  measured: string
  ok: boolean
}

const int = (n: number) => Math.round(n).toLocaleString('en-US')
const ms = (n: number | undefined) => `${(n ?? NaN).toFixed(1)} ms`
const pct = (n: number) => `${(n * 100).toFixed(1)} %`

const sub = (s: Summary | undefined, key: string) => s?.metrics[key]?.values ?? {}
const invariantsHold = (s: Summary | undefined) => Boolean(s) && s!.checks.filter((c) => c.name.startsWith('invariant:')).every((c) => c.fails === 0 && c.passes > 0)
// Any 2xx is an answer, not an error: winners now also pay (201); a 409 other than sold_out counts through entry_errors.
const otherErrors = (s: Summary) =>
  Object.entries(s.http.by_status)
    .filter(([status]) => !status.startsWith('2') && status !== '409')
    .reduce((n, [, c]) => n + c, 0) + (sub(s, 'entry_errors').count ?? 0)

/** The stampede's entry p99, the baseline's under the same arrival schedule, and their ratio (bench/flash-sale.ts). */
function stampedeP99(stampede: Summary | undefined) {
  const entry = sub(stampede, 'http_req_duration{name:entry}')['p(99)']
  const baseline = sub(stampede, 'baseline_p99_same_schedule_ms').value
  const ratio = sub(stampede, 'entry_p99_over_baseline').value
  return { entry, baseline, ratio, text: entry === undefined ? 'not run' : `${ms(entry)}${ratio === undefined ? '' : ` = ${ratio.toFixed(1)} × the baseline's ${ms(baseline)}`}` }
}

export function budget(r: RunResults): BudgetLine[] {
  const base = r.wrk.baseline.rps
  const stampede = r.scenarios['flash-sale']
  const checkout = r.scenarios.checkout
  const p99 = stampedeP99(stampede)
  const decided = sub(stampede, 'winners_decided_after_ms').value
  const entryShare = r.wrk.entry.rps / base
  const listShare = r.wrk.list.rps / base
  const uncached = median(r.uncached.list) / median(r.uncached.baseline)
  const ordersRate = sub(checkout, 'orders').rate ?? 0
  const lines: BudgetLine[] = [
    { item: 'flash-sale entry, as in a stampede (wrk)', target: '≥ 40 % of baseline', goal: '≥ 60 %', measured: `${int(r.wrk.entry.rps)} req/s = ${pct(entryShare)}`, ok: entryShare >= 0.4 },
    { item: 'product list, cached, 20 items (wrk)', target: '≥ 35 % of baseline', goal: '≥ 60 %', measured: `${int(r.wrk.list.rps)} req/s = ${pct(listShare)}`, ok: listShare >= 0.35 },
    {
      item: 'product list, `CATALOG_CACHE_MS=0`: server CPU a request',
      target: "≤ 12 × the baseline's",
      goal: '≤ 8 ×',
      measured: `${median(r.uncached.list).toFixed(1)} µs = ${uncached.toFixed(1)} × the baseline's ${median(r.uncached.baseline).toFixed(1)} µs`,
      ok: uncached <= 12,
    },
    { item: 'checkout (cart → order → card → webhook)', target: '≥ 1,000 orders/s', goal: '≥ 3,000', measured: `${int(ordersRate)} orders/s`, ok: ordersRate >= 1000 },
    {
      item: 'stampede (10,000 arrivals in 1 s, 100 units): winners decided after the 100th entry',
      target: '≤ 100 ms',
      goal: '≤ 50 ms',
      measured: decided === undefined ? 'not measured' : ms(decided),
      ok: decided !== undefined && decided <= 100,
    },
    { item: 'stampede: entry p99, to the raw baseline under the same arrival schedule', target: '≤ 3 ×', goal: '≤ 2 ×', measured: p99.text, ok: p99.ratio !== undefined && p99.ratio <= 3 },
    { item: 'stampede: errors other than sold_out', target: '0', goal: '0', measured: stampede ? String(otherErrors(stampede)) : 'not run', ok: Boolean(stampede) && otherErrors(stampede!) === 0 },
    { item: 'allocator drain', target: '≥ 20,000 entries/s', goal: '', measured: `${int(r.allocator.entries_per_second)} entries/s`, ok: r.allocator.entries_per_second >= 20_000 },
  ]
  const invariants = (label: string, s: Summary | undefined): BudgetLine => ({
    item: `${label}: business invariants`,
    target: 'all hold',
    goal: '',
    measured: invariantsHold(s) ? 'all hold' : 'BROKEN (see below)',
    ok: invariantsHold(s),
  })
  for (const name of ['flash-sale', 'mixed', 'checkout']) lines.push(invariants(name, r.scenarios[name]))
  for (const [name, s] of Object.entries(r.workers?.scenarios ?? {})) lines.push(invariants(`WORKERS=${r.workers!.workers} ${name}`, s))
  return lines
}

/** WORKERS=1 next to WORKERS=N, each with the wrk baseline of its own minute. */
function workersSection(r: RunResults): string[] {
  if (!r.workers) return ['## Every core', '', '`WORKERS` above 1 needs `REDIS_URL`: the `WORKERS=2` row is in RESULTS-redis.md (`REDIS_URL=… bun run bench`).', '']
  const w = r.workers
  const one = { baseline: r.wrk.baseline, list: r.wrk.list, entry: r.wrk.entry, scenarios: r.scenarios }
  const many = { ...w.wrk, scenarios: w.scenarios }
  const figures = (f: typeof one) => {
    const p99 = stampedeP99(f.scenarios['flash-sale'])
    const decided = sub(f.scenarios['flash-sale'], 'winners_decided_after_ms').value
    return [
      `${int(f.baseline.rps)} req/s`,
      `${int(f.list.rps)} req/s = ${pct(f.list.rps / f.baseline.rps)}`,
      `${int(f.entry.rps)} req/s = ${pct(f.entry.rps / f.baseline.rps)}`,
      `${int(sub(f.scenarios.checkout, 'orders').rate ?? 0)} orders/s`,
      p99.text,
      decided === undefined ? 'not measured' : ms(decided),
      ['checkout', 'flash-sale'].every((name) => invariantsHold(f.scenarios[name])) ? 'all hold' : '**BROKEN**',
    ]
  }
  const names = [
    'wrk baseline (raw Bun.serve), its own minute',
    '`GET /v1/products?limit=20` (wrk)',
    '`POST …/entries` as in a stampede (wrk)',
    'checkout',
    'stampede: entry p99',
    'stampede: winners decided after the units-th entry',
    'checkout and stampede invariants',
  ]
  const [a, b] = [figures(one), figures(many)]
  return [
    `## Every core: WORKERS=${w.workers}`,
    '',
    `The same figures against ${w.workers} server processes sharing the port (\`WORKERS=${w.workers}\`, on Redis), measured after the rest of the run with a wrk baseline of their own; the load generators share the same cores.`,
    '',
    row(['figure', 'WORKERS=1 (above)', `WORKERS=${w.workers}`]),
    row(['---', '---', '---']),
    ...names.map((name, i) => row([name, a[i]!, b[i]!])),
    '',
    ...Object.entries(w.scenarios).flatMap(([name, s]) => scenarioSection(`${name}, WORKERS=${w.workers}`, `WORKERS=${w.workers} bun bench/${name}.ts`, s, undefined)),
  ]
}

const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`

function wrkRow(name: string, w: WrkResult, base: number) {
  const statuses = Object.entries(w.by_status)
    .map(([s, n]) => `${s} × ${int(n)}`)
    .join(', ')
  return row([name, int(w.rps), pct(w.rps / base), ms(w.latency.p50), ms(w.latency.p95), ms(w.latency.p99), ms(w.latency.max), statuses])
}

function scenarioSection(name: string, command: string, s: Summary, baselineRps: number | undefined): string[] {
  const d = s.http.duration
  const lines = [
    `### ${name}`,
    '',
    `\`${command}\` — ${s.duration_s.toFixed(1)} s, ${s.ok ? 'PASS' : 'FAIL'}`,
    '',
    `- ${int(s.http.requests)} requests, ${int(s.http.rps)} req/s${baselineRps ? ` (${pct(s.http.rps / baselineRps)} of the runner's baseline)` : ''}; ${int(s.iterations.count)} iterations, ${s.iterations.rate.toFixed(1)}/s`,
    `- latency: p50 ${ms(d.med)}, p95 ${ms(d['p(95)'])}, p99 ${ms(d['p(99)'])}, max ${ms(d.max)}`,
    `- by status: ${Object.entries(s.http.by_status)
      .map(([k, v]) => `${k} × ${int(v)}`)
      .join(', ')}`,
  ]
  if (s.iterations.interrupted || s.iterations.dropped) lines.push(`- iterations interrupted: ${s.iterations.interrupted}, dropped (no free VU): ${s.iterations.dropped}`)
  for (const [message, count] of Object.entries(s.errors)) lines.push(`- iteration error × ${count}: ${message}`)
  lines.push('', row(['threshold', 'actual', 'verdict']), row(['---', '---', '---']))
  for (const t of s.thresholds) lines.push(row([`\`${t.metric}\` ${t.expression}`, t.actual.toFixed(2), t.ok ? 'pass' : '**fail**']))
  lines.push('', row(['check', 'passed', 'failed']), row(['---', '---', '---']))
  for (const c of s.checks) lines.push(row([c.name, c.passes, c.fails ? `**${c.fails}**` : 0]))
  return [...lines, '']
}

export function renderResults(r: RunResults, commands: Record<string, string>): string {
  const m = r.machine
  const base = r.wrk.baseline.rps
  const runnerBase = r.scenarios.baseline?.http.rps
  const mixedCalm = sub(r.scenarios.mixed, 'http_req_duration{scenario:browse,phase:calm}')
  const mixedDrop = sub(r.scenarios.mixed, 'http_req_duration{scenario:browse,phase:drop}')
  const w = r.wrk.settings
  const out = [
    '# Bench results',
    '',
    `Generated by \`${r.command}\` (bench/run-all.ts) — do not edit by hand. How to read it: bench/README.md.`,
    '',
    `- date: ${m.date}; code: ${m.revision}`,
    `- machine: ${m.cores} cores, ${m.cpu}, ${m.os}; Bun ${m.bun}`,
    `- load average when the run started: ${m.loadavg.map((l) => l.toFixed(2)).join(' / ')} (1 / 5 / 15 min)`,
    `- mode: ${m.mode === 'redis' ? 'queue, limiter and events on Redis (REDIS_URL)' : 'single instance, in-process queue, limiter and events'}; embedded libSQL file; server and load generators on the same box`,
    '',
    '## Budget',
    '',
    row(['budget', 'floor', 'goal', 'measured', 'verdict']),
    row(['---', '---', '---', '---', '---']),
    ...budget(r).map((b) => row([b.item, b.target, b.goal, b.measured, b.ok ? 'pass' : '**miss**'])),
    '',
    'Misses and where the time goes: bench/README.md, "Where the time goes".',
    '',
    `## Throughput with wrk (${w.threads} threads, ${w.connections} connections, ${w.duration} each after a 2 s warm-up)`,
    '',
    row(['target', 'req/s', 'of baseline', 'p50', 'p95', 'p99', 'max', 'answers']),
    row(['---', '---', '---', '---', '---', '---', '---', '---']),
    wrkRow('baseline: raw Bun.serve JSON', r.wrk.baseline, base),
    wrkRow('`GET /health`: the floor every route pays (request id, security headers, log line, metrics)', r.wrk.health, base),
    wrkRow('`GET /v1/products?limit=20`', r.wrk.list, base),
    wrkRow(`\`POST …/entries\` as in a stampede: 100 units + 100 waitlisted, then sold_out (${int(r.wrk.entry.customers)} customers in turn)`, r.wrk.entry, base),
    wrkRow(`\`POST …/entries\`, every customer accepted while the allocator decides them (${int(r.wrk.entryAccepted.customers)} customers in turn)`, r.wrk.entryAccepted, base),
    '',
    '## Product list with the cache off (server CPU a request)',
    '',
    `\`bun bench/cpu.ts baseline,list-uncached\`'s measure: one wrk thread, ${CPU_WRK.connections} connections, rounds of ${UNCACHED_ROUND}; µs of the server process's CPU (user + system) divided by the requests it answered. Baseline (raw Bun.serve JSON): ${r.uncached.baseline.map((us) => us.toFixed(1)).join(', ')} µs; \`GET /v1/products?limit=20\` with \`CATALOG_CACHE_MS=0\`: ${r.uncached.list.map((us) => us.toFixed(1)).join(', ')} µs. Medians: ${median(r.uncached.list).toFixed(1)} / ${median(r.uncached.baseline).toFixed(1)} = **${(median(r.uncached.list) / median(r.uncached.baseline)).toFixed(1)} ×**.`,
    '',
    '## Scenarios (bench runner)',
    '',
    ...(runnerBase ? [`The runner's own baseline (raw Bun.serve, same VUs) did ${int(runnerBase)} req/s; closed-model scenarios are also given as a ratio to it.`, ''] : []),
    ...(r.scenarios.mixed
      ? [`Catalog p99 during the drop: ${ms(mixedDrop['p(99)'])} (${mixedDrop.count ?? 0} requests) vs. ${ms(mixedCalm['p(99)'])} without it (${mixedCalm.count ?? 0} requests).`, '']
      : []),
    ...Object.entries(r.scenarios).flatMap(([name, s]) =>
      scenarioSection(name, commands[name] ?? `bun bench/${name}.ts`, s, name === 'baseline' || name === 'catalog' || name === 'checkout' ? runnerBase : undefined),
    ),
    ...workersSection(r),
    '## Allocator drain',
    '',
    `\`${commands.allocator}\`: ${int(r.allocator.entries)} queued entries on ${r.allocator.units} units (${r.allocator.redis ? 'Redis' : 'in-process'} queue) decided in ${r.allocator.seconds.toFixed(2)} s = **${int(r.allocator.entries_per_second)} entries/s**; ${int(r.allocator.decided)} decided, ${r.allocator.winners} won.`,
    '',
  ]
  return out.join('\n')
}
