/**
 * A scenario's arrival schedule run against the raw Bun.serve baseline (a process of its
 * own, started and stopped here), with the same executor: what that scenario's latency under
 * the same schedule is a ratio to, on this machine, minutes apart. One POST per arrival,
 * timed around the whole fetch as the runner times its requests.
 */
import { runExecutor } from './executors'
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
  try {
    await runExecutor(scenario, async () => {
      const started = performance.now()
      try {
        const res = await fetch(server.url, { method: 'POST', headers: { authorization: 'Bearer baseline' } })
        await res.arrayBuffer()
        if (res.status !== 200) failed++
      } catch {
        failed++
      }
      durations.push(performance.now() - started)
    })
  } finally {
    await server.stop()
  }
  const sorted = Float64Array.from(durations).sort()
  return { requests: durations.length, failed, p50: percentile(sorted, 50), p99: percentile(sorted, 99) }
}
