/**
 * `bun bench/<name>.ts [--url URL] [--vus N] [--duration 10s] [--out DIR] [--setup-only] [-e KEY=VALUE]…`
 * Without --url the script starts its own shop. Exit code 99 when a threshold, a check
 * or an iteration failed (k6's code for failed thresholds).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { parseArgs } from 'node:util'
import { __ENV } from './k6'
import { withOverrides } from './options'
import { runScript, type Script } from './runner'
import { formatSummary, type Summary } from './summary'
import { baselineTarget, benchRedis, externalTarget, ownTarget, type Target } from './target'
import { REPO } from './server'

export const DEFAULT_OUT = join(REPO, 'bench/out')

export function parseFlags(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      vus: { type: 'string' },
      duration: { type: 'string' },
      out: { type: 'string' },
      'setup-only': { type: 'boolean' },
      env: { type: 'string', short: 'e', multiple: true },
    },
    strict: true,
  })
  const vus = values.vus === undefined ? undefined : Number(values.vus)
  if (vus !== undefined && !(Number.isInteger(vus) && vus > 0)) throw new Error('--vus takes a positive integer')
  return { url: values.url, vus, duration: values.duration, out: values.out ?? DEFAULT_OUT, setupOnly: values['setup-only'] ?? false }
}

/** The JSON and text summaries under `out`, named after the scenario. */
export function writeSummary(summary: Summary, out: string) {
  mkdirSync(out, { recursive: true })
  const text = formatSummary(summary)
  writeFileSync(join(out, `${summary.scenario}.json`), JSON.stringify(summary, null, 2))
  writeFileSync(join(out, `${summary.scenario}.txt`), text + '\n')
  return text
}

/**
 * What a scenario file runs when started directly: `if (import.meta.main) void runCli(import.meta.path)`.
 * Not awaited there: it imports that very module, which must finish loading first.
 */
export function runCli(scriptPath: string) {
  return cli(scriptPath).catch((error) => {
    console.error(error instanceof Error ? error.stack : error)
    process.exitCode = 1
  })
}

async function cli(scriptPath: string) {
  const flags = parseFlags(process.argv.slice(2))
  const script = (await import(scriptPath)) as Script
  const name = basename(scriptPath, '.ts')
  const own = () => (script.server === 'baseline' ? baselineTarget(flags.out) : ownTarget(flags.out, __ENV.REDIS_URL ? benchRedis(__ENV.REDIS_URL) : undefined))
  const target: Target = flags.url ? externalTarget(flags.url, __ENV) : await own()
  try {
    if (flags.setupOnly) {
      // For real k6: the data its setup() would compute, to load with open().
      console.log(JSON.stringify(await script.setup?.(target), null, 2))
      return
    }
    const summary = await runScript(name, { ...script, options: withOverrides(script.options, flags) }, target)
    console.log(writeSummary(summary, flags.out))
    process.exitCode = summary.ok ? 0 : 99
  } finally {
    await target.close()
  }
}
