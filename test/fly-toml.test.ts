import { expect, test } from 'bun:test'
import fly from '../fly.toml'
import { loadConfig } from '../src/config'

/** fly.toml as Bun reads it (Fly's schema: https://fly.io/docs/reference/configuration/). */
const config = fly as {
  kill_timeout: string
  env: Record<string, string>
  deploy: { strategy: string; release_command?: string }
  vm: { memory: string; cpus: number; cpu_kind: string }[]
  restart: { policy: string; retries: number }[]
  mounts: { source: string; destination: string }[]
  http_service: { internal_port: number; auto_stop_machines: string; auto_start_machines: boolean; min_machines_running: number; checks: { path: string }[] }
  checks: Record<string, { port: number; path: string; type: string }>
  metrics: { port: number; path: string }
}

const megabytes = (size: string) => {
  const match = /^(\d+)(mb|gb)$/i.exec(size)
  if (!match) throw new Error(`not a memory size: ${size}`)
  return Number(match[1]) * (match[2]!.toLowerCase() === 'gb' ? 1024 : 1)
}

/** Peaks measured under the stampede on Redis (MiB): the primary of WORKERS=N, and one worker re-encoding photos besides (162 + 23). */
const PRIMARY_PEAK = 73
const WORKER_PEAK = 185

test('VM memory leaves twice the measured peak of every process WORKERS=auto runs on its CPUs (one per CPU once Redis is set)', () => {
  expect(config.vm).toHaveLength(1)
  expect(config.env.WORKERS).toBe('auto')
  const { cpus, memory } = config.vm[0]!
  expect(megabytes(memory)).toBeGreaterThanOrEqual(2 * (PRIMARY_PEAK + cpus * WORKER_PEAK))
})

test('a process that exits non-zero (the watchdog, a failed start) is restarted; the watchdog is on', () => {
  expect(config.restart).toEqual([{ policy: 'on-failure', retries: expect.any(Number) }])
  expect(config.restart[0]!.retries).toBeGreaterThan(0)
  expect(Number(config.env.WATCHDOG_STALL_MS)).toBeGreaterThan(0)
})

test('auto start and stop agree, and one machine always runs the background work', () => {
  const service = config.http_service
  // Both on or both off (Fly's advice); min_machines_running only means something with stopping on.
  expect(service.auto_stop_machines).toBe('stop')
  expect(service.auto_start_machines).toBe(true)
  expect(service.min_machines_running).toBe(1)
})

test('Fly scrapes /metrics on METRICS_PORT, which no public service exposes', () => {
  expect(config.metrics).toEqual({ port: Number(config.env.METRICS_PORT), path: '/metrics' })
  expect(config.metrics.port).not.toBe(config.http_service.internal_port)
})

test('the [env] is a valid production configuration for the image (secrets come from `fly secrets`)', () => {
  const secrets = { JWT_SECRET: 'j'.repeat(40), WEBHOOK_SECRET: 'w'.repeat(40), DATA_KEY: Buffer.alloc(32, 7).toString('base64') }
  const loaded = loadConfig({ ...config.env, ...secrets })
  expect(loaded.PORT).toBe(config.http_service.internal_port)
  expect(loaded.DATABASE_URL).toBe(`file:${config.mounts[0]!.destination}/shop.db`)
  // Routing is on /health only: /ready answers 503 while Redis is down, and the service keeps serving then.
  expect(config.http_service.checks.map((check) => check.path)).toEqual(['/health'])
  expect(config.checks.ready).toMatchObject({ type: 'http', port: config.http_service.internal_port, path: '/ready' })
  // The stop timeout covers the drain.
  expect(Number.parseInt(config.kill_timeout, 10) * 1000).toBeGreaterThan(loaded.SHUTDOWN_GRACE_MS)
  // With a volume Fly allows only rolling or immediate deploys, and a release machine has no volume.
  expect(config.deploy.strategy).toBe('rolling')
  expect(config.deploy.release_command).toBeUndefined()
})
