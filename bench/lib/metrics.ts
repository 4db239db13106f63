/**
 * Samples of one run, kept per series (metric name + tag set) as plain columns, so a
 * threshold on a sub-metric (`http_req_duration{name:entry}`) is a filter over series.
 */
export type MetricType = 'trend' | 'counter' | 'rate' | 'gauge'
export type Tags = Record<string, string>

interface Series {
  tags: Tags
  values: number[]
  /** When each value was added (`performance.now()`), for the report's charts over time. */
  times: number[]
}

interface Metric {
  type: MetricType
  /** Trend values are durations in milliseconds (shown as such). */
  isTime: boolean
  series: Map<string, Series>
}

export interface MetricValues {
  count?: number
  rate?: number
  avg?: number
  min?: number
  med?: number
  max?: number
  'p(90)'?: number
  'p(95)'?: number
  'p(99)'?: number
  value?: number
  passes?: number
  fails?: number
  [aggregate: string]: number | undefined
}

const tagKey = (tags: Tags) =>
  Object.keys(tags)
    .sort()
    .map((k) => `${k}:${tags[k]}`)
    .join(',')

/** Nearest-rank-with-interpolation percentile of sorted values (k6 interpolates likewise). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0
  const rank = (p / 100) * (sorted.length - 1)
  const low = Math.floor(rank)
  const high = Math.min(low + 1, sorted.length - 1)
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low)
}

export class MetricStore {
  readonly metrics = new Map<string, Metric>()
  readonly marks = new Map<string, number[]>()
  startedAt = performance.now()
  /** `startedAt` on the wall clock (epoch ms), which the server's timestamps use. */
  startedEpoch = Date.now()
  endedAt = performance.now()

  declare(name: string, type: MetricType, isTime = false): void {
    const known = this.metrics.get(name)
    if (known && known.type !== type) throw new Error(`metric ${name} is a ${known.type}, not a ${type}`)
    if (!known) this.metrics.set(name, { type, isTime, series: new Map() })
  }

  add(name: string, type: MetricType, value: number, tags: Tags = {}, isTime = false): void {
    this.declare(name, type, isTime)
    const metric = this.metrics.get(name)!
    const key = tagKey(tags)
    let series = metric.series.get(key)
    if (!series) metric.series.set(key, (series = { tags, values: [], times: [] }))
    series.values.push(value)
    series.times.push(performance.now())
  }

  /** Moments the script learnt of afterwards (epoch ms, e.g. from the server's rows), kept as ms since the run started. */
  mark(name: string, epochMs: number[]): void {
    const list = this.marks.get(name) ?? []
    for (const at of epochMs) list.push(at - this.startedEpoch)
    this.marks.set(name, list)
  }

  /** Every sample of `name` whose tags include `filter`: its value, the ms since the run started, its tags. */
  samples(name: string, filter: Tags = {}): { value: number; at: number; tags: Tags }[] {
    const out: { value: number; at: number; tags: Tags }[] = []
    for (const series of this.metrics.get(name)?.series.values() ?? []) {
      if (!Object.entries(filter).every(([k, v]) => series.tags[k] === v)) continue
      series.values.forEach((value, i) => out.push({ value, at: series.times[i]! - this.startedAt, tags: series.tags }))
    }
    return out
  }

  typeOf(name: string): MetricType | undefined {
    return this.metrics.get(name)?.type
  }

  isTime(name: string): boolean {
    return this.metrics.get(name)?.isTime ?? false
  }

  /** Values of every series of `name` whose tags include `filter`. */
  private select(name: string, filter: Tags): number[] {
    const out: number[] = []
    const metric = this.metrics.get(name)
    if (!metric) return out
    for (const series of metric.series.values()) {
      if (!Object.entries(filter).every(([k, v]) => series.tags[k] === v)) continue
      for (const value of series.values) out.push(value)
    }
    return out
  }

  /** The aggregates k6 shows for a metric type. */
  values(name: string, filter: Tags = {}): MetricValues {
    const type = this.typeOf(name)
    const values = this.select(name, filter)
    const seconds = Math.max((this.endedAt - this.startedAt) / 1000, 1e-9)
    switch (type) {
      case 'counter': {
        const count = values.reduce((a, b) => a + b, 0)
        return { count, rate: count / seconds }
      }
      case 'rate': {
        const passes = values.filter((v) => v !== 0).length
        return { rate: values.length ? passes / values.length : 0, passes, fails: values.length - passes }
      }
      case 'gauge':
        return { value: values.at(-1) ?? 0, min: Math.min(...values), max: Math.max(...values) }
      case 'trend': {
        const sorted = Float64Array.from(values).sort()
        const sum = values.reduce((a, b) => a + b, 0)
        return {
          count: sorted.length,
          avg: sorted.length ? sum / sorted.length : 0,
          min: sorted[0] ?? 0,
          med: percentile(sorted, 50),
          max: sorted.at(-1) ?? 0,
          'p(90)': percentile(sorted, 90),
          'p(95)': percentile(sorted, 95),
          'p(99)': percentile(sorted, 99),
        }
      }
      default:
        return {}
    }
  }

  /** Any percentile of a trend (thresholds may name p(99.9)). */
  percentileOf(name: string, filter: Tags, p: number): number {
    return percentile(Float64Array.from(this.select(name, filter)).sort(), p)
  }

  /** Distinct values of one tag among the series of a metric (e.g. every `status` seen). */
  tagValues(name: string, tag: string): string[] {
    const seen = new Set<string>()
    for (const series of this.metrics.get(name)?.series.values() ?? []) if (series.tags[tag] !== undefined) seen.add(series.tags[tag]!)
    return [...seen].sort()
  }
}

/** The store of the run in progress: custom metrics declared at module scope write here. */
let current: MetricStore | undefined
export const activeStore = () => {
  if (!current) throw new Error('no bench run in progress')
  return current
}
export const setActiveStore = (store: MetricStore | undefined) => {
  current = store
}
