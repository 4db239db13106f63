/**
 * The baseline through this runner: the raw Bun.serve JSON answer, driven like the
 * scenarios are (same VUs), so a scenario's figures can be read as a ratio to it.
 */
import http from './lib/http'
import { check } from './lib/k6'
import { runCli } from './lib/cli'
import type { Options } from './lib/options'
import type { Target } from './lib/target'

export const server = 'baseline'

export const options: Options = {
  discardResponseBodies: true,
  scenarios: { baseline: { executor: 'constant-vus', vus: 64, duration: '5s' } },
  thresholds: { http_req_failed: ['rate<0.001'] },
}

export const setup = (target: Target) => ({ url: target.url })

export default async function ({ url }: { url: string }) {
  const res = await http.get(url, { tags: { name: 'baseline' } })
  check(res, { 'status is 200': (r) => r.status === 200 })
}

if (import.meta.main) void runCli(import.meta.path)
