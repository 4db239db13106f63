import { Elysia, StatusMap } from 'elysia'
import { Gauge, type Registry } from 'prom-client'
import { requestMetrics } from '../lib/request-metrics'
import type { Logger } from '../lib/logger'
import type { RouteIndex } from '../lib/route-index'
import { stateOf } from './request-state'

export interface TelemetryOptions {
  logger: Logger
  metrics: Registry
  /** Names the route of answers given before routing (429 on arrival, CORS preflights). */
  routes: RouteIndex
}

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
  const requests = requestMetrics(metrics)
  // Counted in a variable and read at scrape time: a gauge update on every request costs more than the request's own bookkeeping.
  let inFlight = 0
  new Gauge({
    name: 'http_requests_in_flight',
    help: 'Requests being handled now',
    registers: [metrics],
    collect() {
      this.set(inFlight)
    },
  })
  return new Elysia({ name: 'telemetry' })
    .onRequest(({ request }) => {
      const state = stateOf(request)
      if (!state) return
      state.startedAt = performance.now()
      inFlight++
    })
    .onAfterResponse({ as: 'global' }, ({ request, route, path, set, responseValue }) => {
      const state = stateOf(request)
      const start = state?.startedAt
      if (start === undefined) return
      state!.startedAt = undefined
      inFlight--
      const seconds = (performance.now() - start) / 1000
      const status = statusOf(responseValue, set.status)
      const method = request.method
      const template = route || routes.templateOf(method, path) || UNMATCHED
      requests.observe(method, template, status, seconds)
      logger.access({ request_id: state!.id, user_id: state!.principal?.id ?? null, method, route: template, status, duration_ms: Math.round(seconds * 1e4) / 10 })
    })
}
