/**
 * Raw throughput with wrk (C, epoll): the Bun runner's own cost would cap these figures.
 * Same threads and connections for the baseline and the shop, so ratios compare like
 * with like. wrk comes from Debian's package; when it is missing it is installed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO } from './server'

export interface WrkOptions {
  url: string
  method?: 'GET' | 'POST'
  /** Bearer tokens to rotate through, one per request in turn (each thread its own share). */
  tokens?: string[]
  connections: number
  threads: number
  duration: string
}

export interface WrkResult {
  requests: number
  duration_s: number
  rps: number
  /** Milliseconds. */
  latency: { p50: number; p95: number; p99: number; max: number }
  by_status: Record<string, number>
  socket_errors: { connect: number; read: number; write: number; timeout: number }
}

const run = (cmd: string[]) => Bun.spawnSync(cmd, { stdout: 'pipe', stderr: 'pipe' })

/** wrk on the PATH, installing Debian's package when it is not there yet. */
export function ensureWrk() {
  if (Bun.which('wrk')) return
  console.error('wrk not found: installing it with apt-get (Debian package "wrk")…')
  const install = run(['sh', '-c', 'apt-get update -qq && apt-get install -y -qq wrk'])
  if (install.exitCode !== 0 || !Bun.which('wrk')) {
    throw new Error(`wrk is needed for the throughput figures and could not be installed (${install.stderr.toString().trim().slice(-300)}); install it (apt-get install wrk) and rerun`)
  }
}

export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  ensureWrk()
  const dir = mkdtempSync(join(tmpdir(), 'shop-wrk-'))
  try {
    let tokensFile = '-'
    if (options.tokens?.length) {
      tokensFile = join(dir, 'tokens.txt')
      writeFileSync(tokensFile, options.tokens.join('\n') + '\n')
    }
    const cmd = [
      'wrk',
      `-t${options.threads}`,
      `-c${options.connections}`,
      `-d${options.duration}`,
      '-s',
      join(REPO, 'bench/lib/wrk.lua'),
      options.url,
      '--',
      options.method ?? 'GET',
      tokensFile,
      String(options.threads),
    ]
    const child = Bun.spawn(cmd, { stdout: 'pipe', stderr: 'pipe' })
    const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
    const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '))
    if (code !== 0 || !line) throw new Error(`wrk failed (${code}): ${stderr || stdout}`)
    const raw = JSON.parse(line.slice('WRK_JSON '.length))
    const duration_s = raw.duration_us / 1e6
    return {
      requests: raw.requests,
      duration_s,
      rps: raw.requests / duration_s,
      latency: { p50: raw.p50_us / 1000, p95: raw.p95_us / 1000, p99: raw.p99_us / 1000, max: raw.max_us / 1000 },
      by_status: raw.by_status,
      socket_errors: raw.errors,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
