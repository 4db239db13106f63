import { expect, test } from 'bun:test'
import { collectDefaultMetrics, Registry } from 'prom-client'
import dashboard from '../src/modules/ops/grafana-dashboard.json'
import { startShop } from './support/harness'

interface Panel {
  id: number
  type: string
  targets?: { expr: string }[]
}

test('the Grafana dashboard queries only metrics the service exposes', async () => {
  const metrics = new Registry()
  collectDefaultMetrics({ register: metrics })
  const s = await startShop({ deps: { metrics } })
  try {
    const text = await (await fetch(s.url + '/metrics')).text()
    const exposed = new Set([...text.matchAll(/^# TYPE (\S+) (\w+)$/gm)].map((m) => m[1]!))
    const panels = dashboard.panels as Panel[]
    const queried = panels.flatMap((p) => p.targets ?? []).flatMap((t) => [...t.expr.matchAll(/\b([a-z_:][a-z0-9_:]*)\{/g)].map((m) => m[1]!))
    expect(queried.length).toBeGreaterThan(15)
    const missing = [...new Set(queried)].filter((name) => !exposed.has(name) && !exposed.has(name.replace(/_(bucket|count|sum)$/, '')))
    expect(missing).toEqual([])
    for (const name of ['http_requests_total', 'http_request_duration_seconds_bucket', 'http_requests_in_flight', 'flash_sale_queue_depth', 'flash_sale_allocations_total', 'shop_jobs_backlog']) {
      expect(queried).toContain(name)
    }
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length)
    expect(panels.filter((p) => p.type !== 'row').every((p) => (p.targets ?? []).length > 0)).toBe(true)
  } finally {
    await s.close()
  }
})
