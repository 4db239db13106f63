// The budget `bun run bench` prints and writes to RESULTS.md: issue 16's floors, each line
// passing at its floor and missing just past it. Built from figures, not from a run.
import { describe, expect, test } from 'bun:test'
import { budget, renderResults, type RunResults } from '../bench/lib/results'
import type { Summary } from '../bench/lib/summary'
import type { WrkResult } from '../bench/lib/wrk'

const wrk = (rps: number): WrkResult => ({
  requests: rps * 10,
  duration_s: 10,
  rps,
  latency: { p50: 1, p95: 2, p99: 3, max: 4 },
  by_status: { '200': rps * 10 },
  socket_errors: { connect: 0, read: 0, write: 0, timeout: 0 },
})

function summary(metrics: Record<string, Record<string, number>>): Summary {
  return {
    scenario: 's',
    target: 'http://127.0.0.1:1',
    date: '2026-12-02T00:00:00Z',
    duration_s: 10,
    http: { requests: 1, rps: 1, duration: { med: 1, 'p(95)': 1, 'p(99)': 1, max: 1 }, failed_rate: 0, by_status: { '200': 1, '409': 5 } },
    iterations: { count: 1, rate: 1, interrupted: 0, dropped: 0 },
    metrics: Object.fromEntries(Object.entries(metrics).map(([k, values]) => [k, { type: 'trend', time: true, values }])),
    checks: [{ name: 'invariant: winners == units', passes: 1, fails: 0 }],
    thresholds: [],
    errors: {},
    ok: true,
    timeline: { buckets: [] } as unknown as Summary['timeline'],
  }
}

/** A run exactly at every floor, with `change` applied. */
function run(change: { entry?: number; list?: number; uncachedList?: number; orders?: number; decided?: number; p99Ratio?: number } = {}): RunResults {
  const stampede = summary({
    'http_req_duration{name:entry}': { 'p(99)': 30 },
    baseline_p99_same_schedule_ms: { value: 10 },
    entry_p99_over_baseline: { value: change.p99Ratio ?? 3 },
    winners_decided_after_ms: { value: change.decided ?? 100 },
  })
  return {
    command: 'bun run bench',
    machine: { revision: 'abc', cores: 2, cpu: 'test', bun: '1.4.5', os: 'Linux', loadavg: [0, 0, 0], date: '2026-12-02T00:00:00Z', mode: 'in-process' },
    wrk: {
      settings: { threads: 2, connections: 64, duration: '10s' },
      baseline: wrk(100_000),
      health: wrk(60_000),
      list: wrk(change.list ?? 35_000),
      entry: { ...wrk(change.entry ?? 40_000), customers: 1 },
      entryAccepted: { ...wrk(10_000), customers: 1 },
    },
    uncached: { baseline: [9, 10, 11], list: [100, change.uncachedList ?? 120, 130] },
    scenarios: { 'flash-sale': stampede, mixed: stampede, checkout: summary({ orders: { rate: change.orders ?? 1000 } }) },
    allocator: { entries: 1, units: 1, seconds: 1, entries_per_second: 50_000, decided: 1, winners: 1, redis: false } as RunResults['allocator'],
  }
}

const verdicts = (r: RunResults) => Object.fromEntries(budget(r).map((line) => [line.item, line.ok]))

describe("bun run bench's budget (issue 16's floors)", () => {
  test('every line passes at its floor', () => {
    const lines = budget(run())
    expect(lines.filter((line) => !line.ok)).toEqual([])
    expect(lines.map((line) => line.target)).toContain('≥ 40 % of baseline')
    expect(renderResults(run(), {})).toContain('| flash-sale entry, as in a stampede (wrk) | ≥ 40 % of baseline | ≥ 60 % | 40,000 req/s = 40.0 % | pass |')
  })

  test.each([
    ['flash-sale entry, as in a stampede (wrk)', { entry: 39_900 }],
    ['product list, cached, 20 items (wrk)', { list: 34_900 }],
    ['product list, `CATALOG_CACHE_MS=0`: server CPU a request', { uncachedList: 121 }],
    ['checkout (cart → order → card → webhook)', { orders: 999 }],
    ['stampede (10,000 arrivals in 1 s, 100 units): winners decided after the 100th entry', { decided: 101 }],
    ['stampede: entry p99, to the raw baseline under the same arrival schedule', { p99Ratio: 3.1 }],
  ])('%s misses just past its floor, alone', (item, change) => {
    const missed = Object.entries(verdicts(run(change))).filter(([, ok]) => !ok)
    expect(missed).toEqual([[item, false]])
  })
})
