import type { MetricsExposition } from './workers'

/**
 * `/metrics` on a listener of its own (METRICS_PORT), without a token: for a scraper on a
 * private network (Fly's managed Prometheus scrapes the `[metrics]` port), while the public
 * port keeps wanting METRICS_TOKEN. Same exposition, so the same series (under WORKERS=N the
 * primary serves it, for the whole instance).
 */
export function serveMetrics(metrics: MetricsExposition, options: { hostname: string; port: number }) {
  return Bun.serve({
    ...options,
    async fetch(request) {
      if (new URL(request.url).pathname !== '/metrics') return new Response('Not Found', { status: 404 })
      if (request.method !== 'GET' && request.method !== 'HEAD') return new Response('Method Not Allowed', { status: 405, headers: { allow: 'GET, HEAD' } })
      return new Response(await metrics.metrics(), { headers: { 'content-type': metrics.contentType } })
    },
  })
}
