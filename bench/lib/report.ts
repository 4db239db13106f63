/**
 * bench/report.html: one self-contained page of charts for load testers, drawn here as inline
 * SVG (no script, no CDN, nothing fetched): per scenario, requests per second, p50 and p99
 * over time and answers by status; for a flash-sale stampede, entries accepted and winners
 * decided over time. Every point is a `circle[data-point]` with its value in a tooltip, and
 * each chart says how many it drew (`data-points`); the figures are also embedded as JSON.
 */
import type { Summary } from './summary'
import type { Timeline } from './timeline'
import type { Machine, WorkersFigures } from './results'

export interface ReportInput {
  command?: string
  machine?: Machine
  scenarios: Record<string, Summary>
  workers?: WorkersFigures
}

interface Series {
  name: string
  points: [x: number, y: number][]
  /** A count that only grows (drawn as steps). */
  steps?: boolean
}

const W = 640
const H = 240
const PAD = { left: 56, right: 16, top: 16, bottom: 36 }
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#be185d', '#4b5563']

const html = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
const num = (n: number) => (Number.isInteger(n) ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { maximumFractionDigits: 2 }))

/** A round step giving about five ticks up to `max`. */
function tickStep(max: number): number {
  const raw = max / 5
  const magnitude = 10 ** Math.floor(Math.log10(raw))
  return ([1, 2, 2.5, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude
}

/** `max` up to the next tick. */
const roundUp = (max: number) => tickStep(max) * Math.ceil(max / tickStep(max) - 1e-9)

function ticks(max: number): number[] {
  const step = tickStep(max)
  return Array.from({ length: Math.floor(max / step + 1e-9) + 1 }, (_, i) => Math.round(i * step * 1e6) / 1e6)
}

/** One chart: axes with round ticks, a polyline and a circle per point for each series, a legend. */
function chart(id: string, title: string, axes: { x: string; y: string }, series: Series[]): string {
  const all = series.flatMap((s) => s.points)
  const xMax = roundUp(all.reduce((max, [x]) => Math.max(max, x), 1e-9))
  const yMax = roundUp(all.reduce((max, [, y]) => Math.max(max, y), 1e-9))
  const sx = (x: number) => PAD.left + (x / xMax) * (W - PAD.left - PAD.right)
  const sy = (y: number) => H - PAD.bottom - (y / yMax) * (H - PAD.top - PAD.bottom)
  const grid = ticks(yMax)
    .map((y) => `<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${sy(y)}" y2="${sy(y)}"/><text class="tick" x="${PAD.left - 6}" y="${sy(y) + 4}" text-anchor="end">${num(y)}</text>`)
    .join('')
  const xTicks = ticks(xMax)
    .map(
      (x) =>
        `<line class="axis" x1="${sx(x)}" x2="${sx(x)}" y1="${H - PAD.bottom}" y2="${H - PAD.bottom + 4}"/><text class="tick" x="${sx(x)}" y="${H - PAD.bottom + 16}" text-anchor="middle">${num(x)}</text>`,
    )
    .join('')
  const lines = series
    .map((s, i) => {
      const color = COLORS[i % COLORS.length]
      const path = s.points.flatMap(([x, y], j) => (s.steps && j > 0 ? [[x, s.points[j - 1]![1]] as const, [x, y] as const] : [[x, y] as const]))
      const circles = s.points
        .map(
          ([x, y]) =>
            `<circle data-point data-series="${html(s.name)}" cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${color}"><title>${html(s.name)}: ${num(y)} at ${num(x)} s</title></circle>`,
        )
        .join('')
      return `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${path.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>${circles}`
    })
    .join('')
  const legend = series.map((s, i) => `<span><i style="background:${COLORS[i % COLORS.length]}"></i>${html(s.name)}</span>`).join('')
  return `<figure>
<figcaption>${html(title)}</figcaption>
<svg data-chart="${html(id)}" data-points="${all.length}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${html(title)}">
<line class="axis" x1="${PAD.left}" x2="${W - PAD.right}" y1="${H - PAD.bottom}" y2="${H - PAD.bottom}"/><line class="axis" x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${H - PAD.bottom}"/>
${grid}${xTicks}
<text class="label" x="${(PAD.left + W - PAD.right) / 2}" y="${H - 4}" text-anchor="middle">${html(axes.x)}</text>
<text class="label" transform="translate(14 ${(PAD.top + H - PAD.bottom) / 2}) rotate(-90)" text-anchor="middle">${html(axes.y)}</text>
${lines}
</svg>
<div class="legend">${legend}</div>
</figure>`
}

const pointsOf = (t: number[], values: (number | null)[]): [number, number][] => t.flatMap((x, i) => (values[i] === null || values[i] === undefined ? [] : [[x, values[i]!] as [number, number]]))

/** A cumulative count of marked moments: one point per moment. */
const cumulative = (moments: number[]): [number, number][] => moments.map((x, i) => [x, i + 1])

/** The charts of one scenario's timeline. */
function scenarioCharts(id: string, timeline: Timeline): string[] {
  const { t } = timeline
  const axis = { x: 'seconds since the scenario started' }
  const charts = [
    chart(`${id}:rps`, 'Answers per second', { ...axis, y: 'req/s' }, [{ name: 'all answers', points: pointsOf(t, timeline.rps) }]),
    chart(`${id}:latency`, 'Latency of the answers (ms)', { ...axis, y: 'ms' }, [
      { name: 'p50', points: pointsOf(t, timeline.p50) },
      { name: 'p99', points: pointsOf(t, timeline.p99) },
    ]),
    chart(
      `${id}:status`,
      'Answers per second by HTTP status (0: no answer)',
      { ...axis, y: 'req/s' },
      Object.entries(timeline.by_status).map(([status, values]) => ({ name: status, points: pointsOf(t, values) })),
    ),
  ]
  const accepted = timeline.marks['entries accepted']
  const decided = timeline.marks['winners decided']
  if (accepted?.length || decided?.length) {
    charts.push(
      chart(`${id}:stampede`, 'Stampede: entries accepted and winners decided (server clock)', { ...axis, y: 'entries' }, [
        { name: 'entries accepted', points: cumulative(accepted ?? []), steps: true },
        { name: 'winners decided', points: cumulative(decided ?? []), steps: true },
      ]),
    )
  }
  return charts
}

function scenarioSection(id: string, title: string, s: Summary): string {
  const d = s.http.duration
  const statuses = Object.entries(s.http.by_status)
    .map(([status, n]) => `${status} × ${num(n)}`)
    .join(', ')
  return `<section id="${html(id)}">
<h2>${html(title)} <small class="${s.ok ? 'pass' : 'fail'}">${s.ok ? 'PASS' : 'FAIL'}</small></h2>
<p>${num(s.http.requests)} requests in ${num(Math.round(s.duration_s * 10) / 10)} s (${num(Math.round(s.http.rps))} req/s); p50 ${num(Math.round((d.med ?? 0) * 10) / 10)} ms, p99 ${num(Math.round((d['p(99)'] ?? 0) * 10) / 10)} ms; ${html(statuses)}. Buckets of ${num(s.timeline.bucket_s)} s.</p>
<div class="charts">${scenarioCharts(id, s.timeline).join('\n')}</div>
</section>`
}

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#111}h1{font-size:20px}h2{font-size:16px;margin-top:32px}small.pass{color:#16a34a}small.fail{color:#dc2626}
.charts{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0}figcaption{font-weight:600;margin-bottom:4px}svg{background:#fff;border:1px solid #e5e7eb}
.axis{stroke:#6b7280}.grid{stroke:#e5e7eb}.tick{font-size:10px;fill:#4b5563}.label{font-size:11px;fill:#374151}
.legend{display:flex;gap:12px;font-size:12px;margin-top:4px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}`

export function renderReport(r: ReportInput): string {
  const m = r.machine
  const sections = [
    ...Object.entries(r.scenarios).map(([name, s]) => scenarioSection(name, name, s)),
    ...Object.entries(r.workers?.scenarios ?? {}).map(([name, s]) => scenarioSection(`${name}-workers-${r.workers!.workers}`, `${name}, WORKERS=${r.workers!.workers}`, s)),
  ]
  const data = JSON.stringify({ command: r.command, machine: m, scenarios: r.scenarios, workers: r.workers?.scenarios }).replace(/</g, '\\u003c')
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Bench report</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Bench report</h1>
<p>${r.command ? `Generated by <code>${html(r.command)}</code> (bench/run-all.ts) with bench/RESULTS*.md; how to read it: bench/README.md. ` : ''}${m ? `${html(m.date)}, code ${html(m.revision)}; ${m.cores} cores, ${html(m.cpu)}; load average at the start ${m.loadavg.map((l) => l.toFixed(2)).join(' / ')}; ${m.mode}.` : ''}</p>
${sections.join('\n')}
<script type="application/json" id="bench-data">${data}</script>
</body>
</html>
`
}
