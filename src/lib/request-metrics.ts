import type { Metric, Registry } from 'prom-client'

export const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

interface Series {
  labels: { method: string; route: string; status: string }
  count: number
  /** Seconds. */
  sum: number
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  buckets: number[]
}

/**
 * `http_requests_total` and `http_request_duration_seconds`, kept as plain numbers per series
 * and read by prom-client's registry when scraped (the metric objects follow its `get()`
 * format). prom-client's own counter and histogram build a string key from the labels on
 * every observation: ~2.3 µs a request here, which the hot routes could not afford.
 */
export function requestMetrics(registry: Registry) {
  // Route templates and method names are the same strings request after request: lookups by
  // them are cheap, unlike a key built per request.
  const byRoute = new Map<string, Map<string, Map<number, Series>>>()
  const series: Series[] = []

  const seriesOf = (method: string, route: string, status: number) => {
    let byMethod = byRoute.get(route)
    if (!byMethod) byRoute.set(route, (byMethod = new Map()))
    let byStatus = byMethod.get(method)
    if (!byStatus) byMethod.set(method, (byStatus = new Map()))
    let found = byStatus.get(status)
    if (!found) {
      found = { labels: { method, route, status: String(status) }, count: 0, sum: 0, buckets: new Array(DURATION_BUCKETS.length + 1).fill(0) }
      byStatus.set(status, found)
      series.push(found)
    }
    return found
  }

  const exposed = (name: string, help: string, type: 'counter' | 'histogram', values: () => object[]) =>
    ({
      name,
      help,
      type,
      aggregator: 'sum',
      get: async () => ({ name, help, type, aggregator: 'sum', values: values() }),
      reset() {
        for (const s of series) Object.assign(s, { count: 0, sum: 0, buckets: s.buckets.fill(0) })
      },
    }) as unknown as Metric

  registry.registerMetric(exposed('http_requests_total', 'HTTP requests answered', 'counter', () => series.map((s) => ({ labels: s.labels, value: s.count }))))
  registry.registerMetric(
    exposed('http_request_duration_seconds', 'Time from receiving a request to handing its answer to the socket', 'histogram', () =>
      series.flatMap((s) => {
        let cumulative = 0
        const buckets = [...DURATION_BUCKETS, '+Inf' as const].map((le, i) => ({
          labels: { le, ...s.labels },
          value: (cumulative += s.buckets[i]!),
          metricName: 'http_request_duration_seconds_bucket',
        }))
        return [...buckets, { labels: s.labels, value: s.sum, metricName: 'http_request_duration_seconds_sum' }, { labels: s.labels, value: s.count, metricName: 'http_request_duration_seconds_count' }]
      }),
    ),
  )

  return {
    observe(method: string, route: string, status: number, seconds: number) {
      const s = seriesOf(method, route, status)
      s.count++
      s.sum += seconds
      let bucket = 0
      while (bucket < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[bucket]!) bucket++
      s.buckets[bucket]!++
    },
  }
}
