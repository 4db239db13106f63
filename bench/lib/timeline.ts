/** A run's HTTP figures over time, for the report's charts (bench/lib/report.ts). */
import { percentile, type MetricStore } from './metrics'

export interface Timeline {
  /** Width of a bucket, seconds. */
  bucket_s: number
  /** Each bucket's start, seconds since the run started. */
  t: number[]
  /** Answers per second, by when each answer arrived. */
  rps: number[]
  /** Latency of the answers that arrived in each bucket, ms (null: none arrived). */
  p50: (number | null)[]
  p99: (number | null)[]
  /** Answers per second by HTTP status (`0`: no answer). */
  by_status: Record<string, number[]>
  /** Moments the script marked (seconds since the run started), e.g. the stampede's entries accepted and winners decided. */
  marks: Record<string, number[]>
}

/** About this many buckets, each at least 100 ms wide. */
const BUCKETS = 60

export function timelineOf(store: MetricStore): Timeline {
  const requests = store.samples('http_req_duration')
  let span = Math.max((store.endedAt - store.startedAt) / 1000, 0.1)
  for (const r of requests) span = Math.max(span, r.at / 1000)
  const bucket_s = Math.max(0.1, Math.ceil((span / BUCKETS) * 10) / 10)
  const count = Math.ceil(span / bucket_s)
  const latencies = Array.from({ length: count }, () => [] as number[])
  const statuses: Record<string, number[]> = {}
  for (const { value, at, tags } of requests) {
    const i = Math.min(Math.max(Math.floor(at / 1000 / bucket_s), 0), count - 1)
    latencies[i]!.push(value)
    const counts = (statuses[tags.status ?? '0'] ??= new Array(count).fill(0))
    counts[i]! += 1
  }
  const round = (n: number) => Math.round(n * 100) / 100
  const percentileOf = (p: number) => latencies.map((list) => (list.length ? round(percentile(Float64Array.from(list).sort(), p)) : null))
  return {
    bucket_s,
    t: latencies.map((_, i) => round(i * bucket_s)),
    rps: latencies.map((list) => round(list.length / bucket_s)),
    p50: percentileOf(50),
    p99: percentileOf(99),
    by_status: Object.fromEntries(Object.entries(statuses).map(([status, counts]) => [status, counts.map((n) => round(n / bucket_s))])),
    marks: Object.fromEntries([...store.marks].map(([name, list]) => [name, list.map((ms) => round(ms / 1000)).sort((a, b) => a - b)])),
  }
}
