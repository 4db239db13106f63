/**
 * Shopping goes on during the drop: constant-VU catalog browsing for the whole run, and a
 * stampede of CUSTOMERS on one drop starting DROP_AT into it. Every browse request is
 * tagged `phase:calm` or `phase:drop` (the drop's first seconds), so the catalog's p99 with
 * and without the drop come out side by side. The drop's invariants are checked as well.
 */
import { __ENV, exec } from './lib/k6'
import { runCli } from './lib/cli'
import { parseDuration, type Options } from './lib/options'
import type { Target } from './lib/target'
import { browse, seedCatalog, type CatalogData } from './catalog'
import { checkDrop, enterDrop, prepareDrop, type DropData } from './flash-sale'

const CUSTOMERS = Number(__ENV.CUSTOMERS ?? 5_000)
const UNITS = Number(__ENV.UNITS ?? 100)
const DROP_AT = '4s'
/** The stampede's second plus the allocation right after it. */
const DROP_WINDOW_MS = 2000

export const options: Options = {
  scenarios: {
    browse: { executor: 'constant-vus', vus: 16, duration: '10s', exec: 'shop' },
    stampede: { executor: 'constant-arrival-rate', rate: CUSTOMERS, timeUnit: '1s', duration: '1s', preAllocatedVUs: CUSTOMERS, startTime: DROP_AT, exec: 'enter' },
  },
  thresholds: {
    // Both listed so both show in the summary; the drop may cost the catalog some, not fall apart.
    'http_req_duration{scenario:browse,phase:calm}': ['p(99)<100'],
    'http_req_duration{scenario:browse,phase:drop}': ['p(99)<200'],
    'http_req_failed{scenario:browse}': ['rate<0.001'],
    entry_errors: ['count==0'],
    checks: ['rate==1'],
  },
}

type MixedData = { catalog: CatalogData; drop: DropData }

export async function setup(target: Target): Promise<MixedData> {
  const catalog = await seedCatalog(target)
  // The drop opens with a few seconds to spare before the stampede starts.
  return { catalog, drop: await prepareDrop(target, { customers: CUSTOMERS, units: UNITS }) }
}

const dropStart = parseDuration(DROP_AT)
const inDrop = () => {
  const t = exec.instance.currentTestRunDuration
  return t >= dropStart && t < dropStart + DROP_WINDOW_MS
}

export const shop = ({ catalog }: MixedData) => browse(catalog, { phase: inDrop() ? 'drop' : 'calm' })
export const enter = ({ drop }: MixedData) => enterDrop(drop)
export const teardown = ({ drop }: MixedData, target: Target) => checkDrop(drop, target)

if (import.meta.main) void runCli(import.meta.path)
