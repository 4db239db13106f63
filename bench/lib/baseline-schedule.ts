/**
 * A scenario's arrival schedule run against the raw Bun.serve baseline (a process of its
 * own, started and stopped here), with the same executor: what that scenario's latency under
 * the same schedule is a ratio to, on this machine, minutes apart. One POST per arrival,
 * through the very client the scenario's requests take (`http.post` inside an iteration's
 * context, its answer parsed): the load generator shares the box, so a lighter client for
 * the baseline would leave it more of the CPU than the shop's run gets.
 */
import { runExecutor } from './executors'
import http from './http'
import { withIteration } from './k6'
import { percentile } from './metrics'
import type { Scenario } from './options'
import { spawnBaseline } from './server'

export interface BaselineFigures {
  requests: number
  /** Arrivals that got no answer, or not a 200. */
  failed: number
  p50: number
  p99: number
}

export async function baselineUnder(scenario: Scenario, outDir: string): Promise<BaselineFigures> {
  const server = await spawnBaseline(outDir)
  const durations: number[] = []
  let failed = 0
  let iterationInTest = 0
  const startTime = performance.now()
  try {
    await runExecutor(scenario, (vu) =>
      withIteration({ scenario: { name: 'baseline', iterationInTest: iterationInTest++, startTime }, vu: { idInTest: vu, iterationInScenario: 0, tags: {} } }, async () => {
        const res = await http.post(server.url, null, { headers: { authorization: 'Bearer baseline' }, tags: { name: 'entry' }, responseCallback: http.expectedStatuses(200) })
        if (res.status !== 200 || res.json().status !== 'ok') failed++
        durations.push(res.timings.duration)
      }),
    )
  } finally {
    await server.stop()
  }
  const sorted = Float64Array.from(durations).sort()
  return { requests: durations.length, failed, p50: percentile(sorted, 50), p99: percentile(sorted, 99) }
}
