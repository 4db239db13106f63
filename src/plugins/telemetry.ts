import { Elysia, StatusMap } from 'elysia'
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { Logger } from '../lib/logger'
import type { RouteIndex } from '../lib/route-index'
import { requestIdOf } from './http-errors'
import { principalOf } from './auth'

export interface TelemetryOptions {
  logger: Logger
  metrics: Registry
  /** Names the route of answers given before routing (429 on arrival, CORS preflights). */
  routes: RouteIndex
}

const LABELS = ['method', 'route', 'status'] as const
/** Unmatched paths share one label: raw paths would make a series per probe of a scanner. */
const UNMATCHED = 'unmatched'

const statusOf = (responseValue: unknown, status: number | keyof typeof StatusMap | undefined) => {
  if (responseValue instanceof Response) return responseValue.status
  return typeof status === 'number' ? status : status ? StatusMap[status] : 200
}

/**
 * One JSON log line and one observation per request, by route template (never the raw
 * path, which holds ids) and status. The line holds ids, not content: no bodies, headers
 * or query strings, so no password, token or card number can reach it.
 */
export const telemetry = ({ logger, metrics, routes }: TelemetryOptions) => {
  const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests answered', labelNames: LABELS, registers: [metrics] })
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving a request to handing its answer to the socket',
    labelNames: LABELS,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [metrics],
  })
  const inFlight = new Gauge({ name: 'http_requests_in_flight', help: 'Requests being handled now', registers: [metrics] })
  const started = new WeakMap<Request, number>()

  return new Elysia({ name: 'telemetry' })
    .onRequest(({ request }) => {
      started.set(request, performance.now())
      inFlight.inc()
    })
    .onAfterResponse({ as: 'global' }, ({ request, route, path, set, responseValue }) => {
      const start = started.get(request)
      if (start === undefined) return
      started.delete(request)
      inFlight.dec()
      const seconds = (performance.now() - start) / 1000
      const labels = { method: request.method, route: route || routes.templateOf(request.method, path) || UNMATCHED, status: String(statusOf(responseValue, set.status)) }
      requests.inc(labels)
      duration.observe(labels, seconds)
      logger.info('request', {
        request_id: requestIdOf(request),
        user_id: principalOf(request)?.id ?? null,
        ...labels,
        status: Number(labels.status),
        duration_ms: Math.round(seconds * 1e4) / 10,
      })
    })
}
