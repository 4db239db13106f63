/**
 * The part of k6's script API the scenarios use, with k6's names: `check`, `sleep`,
 * `fail` (module `k6`), `Trend`/`Counter`/`Rate`/`Gauge` (`k6/metrics`), `exec`
 * (`k6/execution`) and `__ENV`. Under real k6 a script imports those modules instead.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { activeStore, type Tags } from './metrics'

export interface IterationContext {
  scenario: { name: string; iterationInTest: number; startTime: number }
  vu: { idInTest: number; iterationInScenario: number; tags: Tags }
}

const iteration = new AsyncLocalStorage<IterationContext>()
/** Runs one iteration with its execution context (what `exec` and the default tags read). */
export const withIteration = <T>(context: IterationContext, fn: () => T) => iteration.run(context, fn)

let runStartedAt = performance.now()
export const markRunStart = () => {
  runStartedAt = performance.now()
}

/** `k6/execution`: who and where the running iteration is. */
export const exec = {
  get scenario() {
    const context = iteration.getStore()
    if (!context) throw new Error('exec.scenario is only defined inside an iteration')
    return context.scenario
  },
  get vu() {
    const context = iteration.getStore()
    if (!context) throw new Error('exec.vu is only defined inside an iteration')
    return context.vu
  },
  instance: {
    get currentTestRunDuration() {
      return performance.now() - runStartedAt
    },
  },
}

/** Tags every sample of the running iteration carries (k6 adds `scenario` likewise). */
export const iterationTags = (): Tags => {
  const context = iteration.getStore()
  return context ? { scenario: context.scenario.name, ...context.vu.tags } : {}
}

/** `-e KEY=VALUE` flags of the command line, over the process environment (k6's `__ENV`). */
export const __ENV: Record<string, string | undefined> = { ...process.env, ...envFlags(process.argv) }

function envFlags(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  argv.forEach((arg, i) => {
    const pair = arg === '-e' || arg === '--env' ? argv[i + 1] : undefined
    const at = pair?.indexOf('=') ?? -1
    if (pair && at > 0) out[pair.slice(0, at)] = pair.slice(at + 1)
  })
  return out
}

/** Records each condition as a pass or fail of the `checks` rate; true when all passed. */
export function check<T>(value: T, conditions: Record<string, (value: T) => boolean>, tags: Tags = {}): boolean {
  let all = true
  for (const [name, condition] of Object.entries(conditions)) {
    let ok = false
    try {
      ok = Boolean(condition(value))
    } catch {
      ok = false
    }
    all &&= ok
    activeStore().add('checks', 'rate', ok ? 1 : 0, { ...iterationTags(), ...tags, check: name })
  }
  return all
}

/** Seconds, as in k6; awaited here because the runner's VUs share one event loop. */
export const sleep = (seconds: number) => Bun.sleep(seconds * 1000)

/** Aborts the iteration (counted, like k6, as an interrupted iteration). */
export function fail(message: string): never {
  throw new Error(message)
}

class CustomMetric {
  constructor(
    readonly name: string,
    private readonly type: 'trend' | 'counter' | 'rate' | 'gauge',
    private readonly isTime = false,
  ) {}
  add(value: number | boolean, tags: Tags = {}) {
    activeStore().add(this.name, this.type, Number(value), { ...iterationTags(), ...tags }, this.isTime)
  }
}

export class Trend extends CustomMetric {
  constructor(name: string, isTime = false) {
    super(name, 'trend', isTime)
  }
}
export class Counter extends CustomMetric {
  constructor(name: string) {
    super(name, 'counter')
  }
}
export class Rate extends CustomMetric {
  constructor(name: string) {
    super(name, 'rate')
  }
}
export class Gauge extends CustomMetric {
  constructor(name: string) {
    super(name, 'gauge')
  }
}
