import { Counter, Histogram, type Registry } from 'prom-client'

const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

const LABELS = ['method', 'route', 'status'] as const

type Child = { observe(seconds: number): void }

/**
 * `http_requests_total` and `http_request_duration_seconds` as prom-client's counter and
 * histogram. Each request is one observation of the histogram's label child for its method,
 * route template and status, kept in nested Maps: route templates and method names are the
 * same strings request after request, so no key is built per request (prom-client still hashes
 * the labels inside each call); the counter is the histogram's count, copied at scrape.
 * Measured against hand-kept numbers read at scrape time: 0.55 against 0.02 µs an
 * observation in a loop, and in 14 interleaved pairs of `bun bench/cpu.ts` +0.9 (health),
 * +1.7 (product list) and +2.2 (flash-sale entry) µs of server CPU a request, medians of the
 * pairs' differences: under the 3 µs that would justify code of our own.
 */
export function requestMetrics(registry: Registry) {
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving a request to handing its answer to the socket',
    labelNames: LABELS,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  })
  new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered',
    labelNames: LABELS,
    registers: [registry],
    // The histogram's own counts, read at scrape: the same requests, without a second label lookup and increment on every one.
    async collect() {
      const { values } = await duration.get()
      // Reset and refilled in one synchronous block: two scrapes at once must not both add to one reset.
      this.reset()
      for (const sample of values) if (sample.metricName === 'http_request_duration_seconds_count') this.inc(sample.labels, sample.value)
    },
  })
  const byRoute = new Map<string, Map<string, Map<number, Child>>>()

  const childrenOf = (method: string, route: string, status: number) => {
    let byMethod = byRoute.get(route)
    if (!byMethod) byRoute.set(route, (byMethod = new Map()))
    let byStatus = byMethod.get(method)
    if (!byStatus) byMethod.set(method, (byStatus = new Map()))
    let found = byStatus.get(status)
    if (!found) {
      found = duration.labels({ method, route, status: String(status) })
      byStatus.set(status, found)
    }
    return found
  }

  return {
    observe(method: string, route: string, status: number, seconds: number) {
      childrenOf(method, route, status).observe(seconds)
    },
  }
}
