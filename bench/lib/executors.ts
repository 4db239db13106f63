/**
 * k6's executors over one event loop: a VU is an async loop, an arrival-rate scenario
 * starts iterations on a schedule from a bounded pool of VUs (an iteration that finds no
 * free VU is dropped and counted, as in k6).
 */
import { parseDuration, type Scenario } from './options'

/** Runs one iteration on VU `vu`; never rejects (the runner counts failures). */
export type Iterate = (vu: number) => Promise<void>

export interface ExecutorResult {
  dropped: number
}

export async function runExecutor(scenario: Scenario, iterate: Iterate): Promise<ExecutorResult> {
  if (scenario.executor === 'constant-vus') {
    const end = performance.now() + parseDuration(scenario.duration)
    const vu = async (id: number) => {
      while (performance.now() < end) await iterate(id)
    }
    await Promise.all(Array.from({ length: scenario.vus }, (_, i) => vu(i + 1)))
    return { dropped: 0 }
  }
  const stages =
    scenario.executor === 'constant-arrival-rate'
      ? { startRate: scenario.rate, stages: [{ duration: scenario.duration, target: scenario.rate }] }
      : { startRate: scenario.startRate ?? 0, stages: scenario.stages }
  const timeUnit = parseDuration(scenario.timeUnit ?? '1s')
  return arrivals(
    startsBy(
      stages.startRate / timeUnit,
      stages.stages.map((s) => ({ ms: parseDuration(s.duration), rate: s.target / timeUnit })),
    ),
    {
      maxVUs: Math.max(scenario.maxVUs ?? scenario.preAllocatedVUs, scenario.preAllocatedVUs),
      iterate,
    },
  )
}

interface Schedule {
  totalMs: number
  /** How many iterations should have started `t` ms into the scenario. */
  due(t: number): number
}

/** Rates (iterations per ms) ramp linearly within each stage; starts are the integral. */
function startsBy(startRate: number, stages: { ms: number; rate: number }[]): Schedule {
  const totalMs = stages.reduce((sum, s) => sum + s.ms, 0)
  return {
    totalMs,
    due(t) {
      let count = 0
      let from = startRate
      let elapsed = 0
      for (const stage of stages) {
        const span = Math.min(Math.max(t - elapsed, 0), stage.ms)
        const rateAtSpan = stage.ms === 0 ? stage.rate : from + ((stage.rate - from) * span) / stage.ms
        count += ((from + rateAtSpan) / 2) * span
        elapsed += stage.ms
        from = stage.rate
        if (t <= elapsed) break
      }
      return Math.floor(count + 1e-9)
    },
  }
}

async function arrivals(schedule: Schedule, { maxVUs, iterate }: { maxVUs: number; iterate: Iterate }): Promise<ExecutorResult> {
  const free = Array.from({ length: maxVUs }, (_, i) => maxVUs - i)
  const running = new Set<Promise<void>>()
  let started = 0
  let dropped = 0
  const t0 = performance.now()
  for (;;) {
    const t = performance.now() - t0
    const due = schedule.due(Math.min(t, schedule.totalMs))
    for (; started < due; started++) {
      const vu = free.pop()
      if (vu === undefined) {
        dropped++
        continue
      }
      const run: Promise<void> = iterate(vu).finally(() => {
        free.push(vu)
        running.delete(run)
      })
      running.add(run)
    }
    if (t >= schedule.totalMs) break
    await Bun.sleep(1)
  }
  await Promise.all(running)
  return { dropped }
}
