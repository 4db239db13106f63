/** The end-of-run summary: thresholds, checks, HTTP figures, errors by status; as JSON and as text. */
import type { MetricStore, MetricValues, Tags } from './metrics'
import type { Options } from './options'
import { timelineOf, type Timeline } from './timeline'

export interface ThresholdResult {
  metric: string
  expression: string
  actual: number
  ok: boolean
}

export interface Summary {
  scenario: string
  target: string
  date: string
  duration_s: number
  http: {
    requests: number
    rps: number
    /** Milliseconds. */
    duration: MetricValues
    failed_rate: number
    by_status: Record<string, number>
  }
  iterations: { count: number; rate: number; interrupted: number; dropped: number }
  /** Every metric, and every sub-metric a threshold names (`http_req_duration{name:entry}`). */
  metrics: Record<string, { type: string; time: boolean; values: MetricValues }>
  checks: { name: string; passes: number; fails: number }[]
  thresholds: ThresholdResult[]
  errors: Record<string, number>
  ok: boolean
  /** The same requests over time (the report's charts). */
  timeline: Timeline
}

/** `http_req_duration{name:entry,phase:drop}` → the metric and its tag filter. */
export function parseMetricKey(key: string): { name: string; filter: Tags } {
  const match = key.match(/^([\w.]+)(?:\{(.*)\})?$/)
  if (!match) throw new Error(`bad metric key '${key}'`)
  const filter: Tags = {}
  for (const pair of (match[2] ?? '').split(',').filter(Boolean)) {
    const at = pair.indexOf(':')
    filter[pair.slice(0, at).trim()] = pair.slice(at + 1).trim()
  }
  return { name: match[1]!, filter }
}

const OPERATORS: Record<string, (a: number, b: number) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '==': (a, b) => a === b,
  '===': (a, b) => a === b,
  '!=': (a, b) => a !== b,
}

function evaluate(store: MetricStore, key: string, expression: string): ThresholdResult {
  const match = expression.replace(/\s+/g, '').match(/^(avg|min|max|med|count|rate|value|p\((\d+(?:\.\d+)?)\))(<=|>=|===|==|!=|<|>)(-?\d+(?:\.\d+)?)$/)
  if (!match) throw new Error(`bad threshold '${expression}' on ${key}`)
  const [, aggregate, p, operator, limit] = match
  const { name, filter } = parseMetricKey(key)
  // A metric nobody recorded is zero, as in k6 (e.g. no failed request at all).
  const actual = p ? store.percentileOf(name, filter, Number(p)) : (store.values(name, filter)[aggregate!] ?? 0)
  return { metric: key, expression, actual, ok: OPERATORS[operator!]!(actual, Number(limit)) }
}

export function summarize(scenario: string, target: string, options: Options, store: MetricStore, errors: Map<string, number>): Summary {
  const metrics: Summary['metrics'] = {}
  for (const [name, metric] of store.metrics) metrics[name] = { type: metric.type, time: metric.isTime, values: store.values(name) }
  for (const key of Object.keys(options.thresholds ?? {})) {
    const { name, filter } = parseMetricKey(key)
    if (Object.keys(filter).length && store.typeOf(name)) metrics[key] = { type: store.typeOf(name)!, time: store.isTime(name), values: store.values(name, filter) }
  }
  const thresholds = Object.entries(options.thresholds ?? {}).flatMap(([key, expressions]) => expressions.map((e) => evaluate(store, key, e)))
  const by_status = Object.fromEntries(store.tagValues('http_reqs', 'status').map((s) => [s, store.values('http_reqs', { status: s }).count ?? 0]))
  const checks = store.tagValues('checks', 'check').map((name) => {
    const v = store.values('checks', { check: name })
    return { name, passes: v.passes ?? 0, fails: v.fails ?? 0 }
  })
  const requests = store.values('http_reqs')
  const iterations = store.values('iterations')
  return {
    scenario,
    target,
    date: new Date().toISOString(),
    duration_s: (store.endedAt - store.startedAt) / 1000,
    http: {
      requests: requests.count ?? 0,
      rps: requests.rate ?? 0,
      duration: store.values('http_req_duration'),
      failed_rate: store.values('http_req_failed').rate ?? 0,
      by_status,
    },
    iterations: {
      count: iterations.count ?? 0,
      rate: iterations.rate ?? 0,
      interrupted: store.values('interrupted_iterations').count ?? 0,
      dropped: store.values('dropped_iterations').count ?? 0,
    },
    metrics,
    checks,
    thresholds,
    errors: Object.fromEntries(errors),
    ok: thresholds.every((t) => t.ok) && checks.every((c) => c.fails === 0) && errors.size === 0,
    timeline: timelineOf(store),
  }
}

const ms = (v: number | undefined) => `${(v ?? 0).toFixed(2)}ms`
const num = (v: number | undefined) => (Number.isInteger(v) ? String(v) : (v ?? 0).toFixed(2))
const pct = (v: number) => `${(v * 100).toFixed(2)}%`

function describe(type: string, values: MetricValues, isTime: boolean): string {
  const f = isTime ? ms : num
  switch (type) {
    case 'trend':
      return `avg=${f(values.avg)} min=${f(values.min)} med=${f(values.med)} max=${f(values.max)} p(90)=${f(values['p(90)'])} p(95)=${f(values['p(95)'])} p(99)=${f(values['p(99)'])} n=${values.count}`
    case 'counter':
      return `${values.count} ${num(values.rate)}/s`
    case 'rate':
      return `${pct(values.rate ?? 0)} ${values.passes} of ${(values.passes ?? 0) + (values.fails ?? 0)}`
    default:
      return `${num(values.value)} min=${num(values.min)} max=${num(values.max)}`
  }
}

/** k6's compact end-of-test layout, roughly: thresholds, checks, then the metrics. */
export function formatSummary(s: Summary): string {
  const lines = [`scenario ${s.scenario} · ${s.duration_s.toFixed(2)} s · ${s.target} · ${s.ok ? 'PASS' : 'FAIL'}`, '', 'THRESHOLDS']
  for (const t of s.thresholds) lines.push(`  ${t.ok ? '✓' : '✗'} ${t.metric} '${t.expression}' actual=${num(t.actual)}`)
  lines.push('', 'CHECKS')
  for (const c of s.checks) lines.push(`  ${c.fails ? '✗' : '✓'} ${c.name}: ${c.passes} passed, ${c.fails} failed`)
  lines.push('', 'METRICS')
  const width = Math.max(...Object.keys(s.metrics).map((k) => k.length))
  for (const [key, m] of Object.entries(s.metrics).sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  ${key.padEnd(width, '.')} ${describe(m.type, m.values, m.time)}`)
  }
  lines.push(
    '',
    `requests by status: ${
      Object.entries(s.http.by_status)
        .map(([k, v]) => `${k} × ${v}`)
        .join(' · ') || 'none'
    }`,
  )
  if (Object.keys(s.errors).length) {
    lines.push('', 'ITERATION ERRORS')
    for (const [message, count] of Object.entries(s.errors)) lines.push(`  ${count} × ${message}`)
  }
  return lines.join('\n')
}
