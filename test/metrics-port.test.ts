import { expect, test } from 'bun:test'
import { productionEnv, scratchDir, serverProcess } from './support/server-process'

test('METRICS_PORT serves /metrics without a token on its own listener; the public port still wants METRICS_TOKEN', async () => {
  const { dir, remove } = scratchDir()
  const server = serverProcess({ ...productionEnv(dir), METRICS_TOKEN: 'scrape-token-0123456789', METRICS_PORT: '0' })
  try {
    const url = await server.url()
    const metricsUrl = await server.url('metrics listening')
    expect(new URL(metricsUrl).port).not.toBe(new URL(url).port)
    expect((await fetch(`${url}/health`)).status).toBe(200)

    expect((await fetch(`${url}/metrics`)).status).toBe(401)
    const scrape = await fetch(metricsUrl)
    expect(scrape.status).toBe(200)
    expect(scrape.headers.get('content-type')).toStartWith('text/plain')
    // The same registry as the app's: the public port's request above is counted there.
    expect(await scrape.text()).toContain('http_requests_total{method="GET",route="/health",status="200"} 1')
    expect((await fetch(metricsUrl.replace('/metrics', '/v1/products'))).status).toBe(404)
    expect((await fetch(metricsUrl, { method: 'POST' })).status).toBe(405)

    server.kill('SIGTERM')
    expect(await server.exited()).toBe(0)
  } finally {
    server.kill()
    remove()
  }
})

test('in production without METRICS_TOKEN, /metrics on the public port answers 404; METRICS_PORT still serves it', async () => {
  const { dir, remove } = scratchDir()
  const server = serverProcess({ ...productionEnv(dir), METRICS_PORT: '0' })
  try {
    const url = await server.url()
    const hidden = await fetch(`${url}/metrics`)
    expect(hidden.status).toBe(404)
    expect(((await hidden.json()) as { code: string }).code).toBe('not_found')
    expect((await fetch(await server.url('metrics listening'))).status).toBe(200)
  } finally {
    server.kill()
    remove()
  }
})
