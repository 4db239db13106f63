// http_requests_total is the duration histogram's count, copied at each scrape: scrapes that
// overlap (two Prometheus servers, /metrics and METRICS_PORT at once, the primary gathering
// its workers) must each read the true count, never one added on top of the other's reset.
import { expect, test } from 'bun:test'
import { Registry } from 'prom-client'
import { requestMetrics } from '../src/lib/request-metrics'

const totalOf = (text: string) => Number(text.match(/^http_requests_total\{method="GET",route="\/health",status="200"\} (\d+)$/m)?.[1])

test('overlapping scrapes each read the true request count', async () => {
  const registry = new Registry()
  const metrics = requestMetrics(registry)
  for (let i = 0; i < 5; i++) metrics.observe('GET', '/health', 200, 0.001)
  const scrapes = await Promise.all([registry.metrics(), registry.metrics(), registry.metrics()])
  expect(scrapes.map(totalOf)).toEqual([5, 5, 5])
  expect(totalOf(await registry.metrics())).toBe(5)
})
