import { Elysia, t } from 'elysia'
import type { MetricsExposition } from '../../infra/workers'
import { notFound, unauthorized } from '../../lib/errors'
import { MEDIA_TYPE, ProblemOf } from '../../lib/models'
import { safeEqual } from '../../lib/crypto'
import { rateLimitClasses } from '../../plugins/rate-limit'

export interface Probe {
  name: string
  check(): Promise<void>
}

export interface OpsOptions {
  probes: Probe[]
  metrics: MetricsExposition
  /** When set, `/metrics` wants `Authorization: Bearer <token>` (scrapers hold it). */
  metricsToken?: string
  /** Without a token, `/metrics` answers 404 (production: scrape METRICS_PORT or set a token) instead of serving anyone. */
  metricsNeedToken?: boolean
}

const Health = t.Object({ status: t.String() })
const Check = t.Union([t.Literal('ok'), t.Literal('down')])
const Readiness = t.Object({ status: t.Union([t.Literal('ok'), t.Literal('unavailable')]), checks: t.Record(t.String(), Check, { description: 'database, files, and redis when configured' }) })
const MetricsText = t.String({ description: 'Prometheus text exposition format', [MEDIA_TYPE]: 'text/plain; version=0.0.4' })

/**
 * `/health` says the process serves; `/ready` says its dependencies answer (load balancers
 * route on it); `/metrics` is for Prometheus. Rate limits exempt them all: probes and
 * scrapes come from the platform, not from clients.
 */
export const opsRoutes = ({ probes, metrics, metricsToken, metricsNeedToken = false }: OpsOptions) =>
  new Elysia({ name: 'ops-routes', detail: { tags: ['ops'] } })
    .use(rateLimitClasses)
    .get('/health', () => ({ status: 'ok' }), {
      rateLimit: 'exempt',
      response: { 200: Health },
      detail: { tags: ['ops'], summary: 'Liveness', description: 'Answers while the process serves, whatever its dependencies say: for restarting a stuck process.' },
    })
    .get(
      '/ready',
      async ({ status }) => {
        // `down`, never the error's text: it can name hosts, paths or a driver's internals.
        const results = await Promise.all(
          probes.map(
            async (p) =>
              [
                p.name,
                await p.check().then(
                  () => 'ok' as const,
                  () => 'down' as const,
                ),
              ] as const,
          ),
        )
        const checks = Object.fromEntries(results)
        const ok = results.every(([, r]) => r === 'ok')
        return status(ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable', checks })
      },
      {
        rateLimit: 'exempt',
        response: { 200: Readiness, 503: Readiness },
        detail: { tags: ['ops'], summary: 'Readiness of the database (and Redis)', description: 'Each dependency `ok` or down; 503 when one is down, so a load balancer stops routing here.' },
      },
    )
    .get(
      '/metrics',
      async ({ headers }) => {
        if (!metricsToken && metricsNeedToken) throw notFound()
        if (metricsToken && !safeEqual(headers.authorization ?? '', `Bearer ${metricsToken}`)) throw unauthorized('This scrape needs the metrics token')
        return new Response(await metrics.metrics(), { headers: { 'content-type': metrics.contentType } })
      },
      {
        rateLimit: 'exempt',
        response: {
          200: MetricsText,
          401: ProblemOf('`unauthorized`: this scrape needs the metrics token'),
          404: ProblemOf('`not_found`: in production without a metrics token, `/metrics` is served only on METRICS_PORT'),
        },
        detail: {
          tags: ['ops'],
          summary: 'Prometheus metrics (request counts and latencies by route, queues, allocations)',
          description: 'For Prometheus. When a metrics token is configured, send it as `Authorization: Bearer <token>`.',
        },
      },
    )
