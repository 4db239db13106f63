import { Elysia, t } from 'elysia'

export interface Probe {
  name: string
  check(): Promise<void>
}

const Health = t.Object({ status: t.String() })
const Readiness = t.Object({ status: t.String(), checks: t.Record(t.String(), t.String()) })

/** `/health` says the process serves; `/ready` says its dependencies answer (load balancers route on it). */
export const opsRoutes = (probes: Probe[]) =>
  new Elysia({ name: 'ops-routes', detail: { tags: ['ops'] } })
    .get('/health', () => ({ status: 'ok' }), { response: { 200: Health }, detail: { tags: ['ops'], summary: 'Liveness' } })
    .get(
      '/ready',
      async ({ status }) => {
        const results = await Promise.all(
          probes.map(async (p) => [p.name, await p.check().then(() => 'ok', (e) => `down: ${e instanceof Error ? e.message : e}`)] as const),
        )
        const checks = Object.fromEntries(results)
        const ok = results.every(([, r]) => r === 'ok')
        return status(ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable', checks })
      },
      { response: { 200: Readiness, 503: Readiness }, detail: { tags: ['ops'], summary: 'Readiness of the database (and Redis)' } },
    )
