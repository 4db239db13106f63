/** k6's script options, the subset this runner implements (same names, same meaning). */
import type { Tags } from './metrics'

interface CommonScenario {
  /** Offset from the start of the run, e.g. '4s'. */
  startTime?: string
  /** Name of the exported function an iteration runs (default: the default export). */
  exec?: string
  /** Added to every sample of this scenario. */
  tags?: Tags
}

export interface ConstantVus extends CommonScenario {
  executor: 'constant-vus'
  vus: number
  duration: string
}

export interface ConstantArrivalRate extends CommonScenario {
  executor: 'constant-arrival-rate'
  rate: number
  timeUnit?: string
  duration: string
  preAllocatedVUs: number
  maxVUs?: number
}

export interface RampingArrivalRate extends CommonScenario {
  executor: 'ramping-arrival-rate'
  startRate?: number
  timeUnit?: string
  stages: { duration: string; target: number }[]
  preAllocatedVUs: number
  maxVUs?: number
}

export type Scenario = ConstantVus | ConstantArrivalRate | RampingArrivalRate

export interface Options {
  scenarios: Record<string, Scenario>
  /** `{ 'http_req_duration{name:entry}': ['p(99)<50'], http_req_failed: ['rate<0.001'] }` */
  thresholds?: Record<string, string[]>
  discardResponseBodies?: boolean
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** '1m30s', '10s', '250ms' → milliseconds. */
export function parseDuration(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)]
  if (!parts.length || parts.map((p) => p[0]).join('') !== text) throw new Error(`bad duration '${text}' (e.g. 10s, 1m30s, 250ms)`)
  return parts.reduce((ms, [, n, unit]) => ms + Number(n) * UNITS[unit!]!, 0)
}

/** `--vus` and `--duration` from the command line replace the scenarios' own. */
export function withOverrides(options: Options, overrides: { vus?: number; duration?: string }): Options {
  const scenarios = Object.fromEntries(
    Object.entries(options.scenarios).map(([name, s]) => {
      const next = { ...s } as Scenario
      if (next.executor === 'constant-vus' && overrides.vus) next.vus = overrides.vus
      if (next.executor !== 'ramping-arrival-rate' && overrides.duration) next.duration = overrides.duration
      if (next.executor !== 'constant-vus' && overrides.vus) next.preAllocatedVUs = next.maxVUs = overrides.vus
      return [name, next]
    }),
  )
  return { ...options, scenarios }
}
