/**
 * Runs a k6-style script: `setup()` once, every scenario of `options` (each after its
 * `startTime`), `teardown(data)` once, then the thresholds and the summary.
 */
import { MetricStore, setActiveStore } from './metrics'
import { withIteration, markRunStart } from './k6'
import { configureHttp, resetHttp } from './http'
import { runExecutor } from './executors'
import { parseDuration, type Options } from './options'
import { summarize, type Summary } from './summary'
import type { Target } from './target'

export interface Script {
  options: Options
  /** Which server to start when no --url is given (default: the shop). */
  server?: 'shop' | 'baseline'
  setup?: (target: Target) => unknown
  teardown?: (data: any, target: Target) => unknown
  default?: (data: any) => unknown
  [exported: string]: unknown
}

/** Errors thrown by iterations, by message, so a broken script is obvious in the summary. */
type ErrorCounts = Map<string, number>

/** VU ids are unique in the test, as in k6: each scenario's come after the previous scenarios'. */
function vuOffsets(options: Options): number[] {
  let next = 0
  return Object.values(options.scenarios).map((s) => {
    const offset = next
    next += s.executor === 'constant-vus' ? s.vus : Math.max(s.maxVUs ?? 0, s.preAllocatedVUs)
    return offset
  })
}

function iterationRunner(script: Script, scenarioName: string, execName: string, tags: Record<string, string>, data: unknown, store: MetricStore, errors: ErrorCounts, vuOffset: number) {
  const fn = script[execName]
  if (typeof fn !== 'function') throw new Error(`scenario ${scenarioName}: the script exports no function '${execName}'`)
  let iterationInTest = 0
  const perVu = new Map<number, number>()
  const startTime = performance.now()
  return async (vu: number) => {
    const iterationInScenario = perVu.get(vu) ?? 0
    perVu.set(vu, iterationInScenario + 1)
    const context = { scenario: { name: scenarioName, iterationInTest: iterationInTest++, startTime }, vu: { idInTest: vuOffset + vu, iterationInScenario, tags } }
    const started = performance.now()
    const sampleTags = { scenario: scenarioName, ...tags }
    try {
      await withIteration(context, () => (fn as (data: unknown) => unknown)(data))
      store.add('iterations', 'counter', 1, sampleTags)
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      errors.set(message, (errors.get(message) ?? 0) + 1)
      store.add('interrupted_iterations', 'counter', 1, sampleTags)
    }
    store.add('iteration_duration', 'trend', performance.now() - started, sampleTags, true)
  }
}

export async function runScript(name: string, script: Script, target: Target): Promise<Summary> {
  const options = script.options
  const store = new MetricStore()
  const errors: ErrorCounts = new Map()
  setActiveStore(store)
  resetHttp()
  configureHttp({ discardResponseBodies: options.discardResponseBodies })
  try {
    const data = script.setup ? await script.setup(target) : undefined
    configureHttp({ record: true })
    markRunStart()
    store.startedAt = performance.now()
    store.startedEpoch = Date.now()
    const offsets = vuOffsets(options)
    await Promise.all(
      Object.entries(options.scenarios).map(async ([scenarioName, scenario], i) => {
        if (scenario.startTime) await Bun.sleep(parseDuration(scenario.startTime))
        const iterate = iterationRunner(script, scenarioName, scenario.exec ?? 'default', scenario.tags ?? {}, data, store, errors, offsets[i]!)
        const { dropped } = await runExecutor(scenario, iterate)
        if (dropped) store.add('dropped_iterations', 'counter', dropped, { scenario: scenarioName })
      }),
    )
    store.endedAt = performance.now()
    configureHttp({ record: false })
    if (script.teardown) await script.teardown(data, target)
    return summarize(name, target.url, options, store, errors)
  } finally {
    setActiveStore(undefined)
    resetHttp()
  }
}
