import type { Subprocess } from 'bun'
import { Counter, Gauge, Registry } from 'prom-client'
import type { Config } from './config'
import { openDatabase } from './db/client'
import { createLogger } from './lib/logger'
import { StartupError } from './lib/startup-error'
import { serveMetrics } from './infra/metrics-listener'
import { WORKER_INDEX_ENV, aggregateMetrics, type MetricsExposition, type MetricsJson, type WorkerMessage } from './infra/workers'
import { addressInUse, checkWritablePaths, databaseStartupError } from './startup'

/** How long the primary waits for a worker's metrics before leaving it out of a scrape. */
const COLLECT_TIMEOUT_MS = 2000
/** A worker that dies within this long of starting counts as a quick death: its restarts back off. */
const QUICK_DEATH_MS = 60_000
const FIRST_RESTART_DELAY_MS = 250
const LONGEST_RESTART_DELAY_MS = 30_000
/** Beyond SHUTDOWN_GRACE_MS, what a worker gets to close its connections before it is killed. */
const STOP_MARGIN_MS = 5000

interface Slot {
  index: number
  process?: Subprocess<'ignore', 'pipe', 'pipe'>
  startedAt: number
  quickDeaths: number
  restartTimer?: ReturnType<typeof setTimeout>
}

/**
 * Copies a worker's output to ours whole lines at a time: N processes writing to one pipe
 * could otherwise interleave inside a line (a pipe keeps only writes under 4 KiB whole).
 */
async function copyLines(from: ReadableStream<Uint8Array>, to: ReturnType<typeof Bun.stdout.writer>) {
  let rest: Uint8Array = new Uint8Array(0)
  for await (const chunk of from) {
    const end = chunk.lastIndexOf(10) + 1
    if (end === 0) {
      rest = Buffer.concat([rest, chunk])
      continue
    }
    to.write(rest.length ? Buffer.concat([rest, chunk.subarray(0, end)]) : chunk.subarray(0, end))
    rest = chunk.slice(end)
    await to.flush()
  }
  if (rest.length) to.write(rest)
  await to.flush()
}

/** The primary's own registry: how many workers run and how often one was restarted. */
function supervisionMetrics(running: () => number) {
  const registry = new Registry()
  new Gauge({
    name: 'shop_workers_running',
    help: 'Worker processes serving now (WORKERS)',
    registers: [registry],
    collect() {
      this.set(running())
    },
  })
  const restarts = new Counter({ name: 'shop_worker_restarts_total', help: 'Workers restarted after they exited without being asked to', registers: [registry] })
  return { registry, restarts }
}

/**
 * The primary of WORKERS=N: applies migrations once, reserves the port, then runs N copies
 * of this server (`bun src/main.ts`, each told its index) that listen on the same port with
 * SO_REUSEPORT and share Redis and the database file. It restarts a worker that exits
 * unasked, forwards SIGTERM/SIGINT to every worker and exits once all have drained, merges
 * the workers' metrics for `/metrics` (whichever worker a scrape reaches) and serves
 * METRICS_PORT itself. It serves no request and loads no part of the app. Resolves once every
 * worker listens; throws (a start-up failure) when one cannot start.
 */
export async function runPrimary(config: Config) {
  const stdout = Bun.stdout.writer()
  const stderr = Bun.stderr.writer()
  // Our own lines go through the same sink as the workers' copied ones, whole lines each.
  const logger = createLogger(config.LOG_LEVEL, (line) => {
    stdout.write(`${line}\n`)
    void stdout.flush()
  })
  checkWritablePaths(config)
  const database = await openDatabase({ url: config.DATABASE_URL, authToken: config.DATABASE_AUTH_TOKEN, synchronous: config.DB_SYNCHRONOUS, checkpoints: false }).catch((error: unknown) => {
    throw databaseStartupError(config, error)
  })
  await database.close()
  const port = reservePort(config)
  const slots: Slot[] = Array.from({ length: config.WORKERS }, (_, index) => ({ index, startedAt: 0, quickDeaths: 0 }))
  const live = () => slots.filter((slot) => slot.process && slot.process.exitCode === null && slot.process.signalCode === null)
  const supervision = supervisionMetrics(() => live().length)
  const collects = new Map<number, (metrics: MetricsJson) => void>()
  let nextCollect = 0
  let stopping = false
  let started = false

  const collect = (slot: Slot) =>
    new Promise<MetricsJson | undefined>((resolve) => {
      const id = nextCollect++
      const timer = setTimeout(() => done(undefined), COLLECT_TIMEOUT_MS)
      const done = (metrics: MetricsJson | undefined) => {
        clearTimeout(timer)
        collects.delete(id)
        resolve(metrics)
      }
      collects.set(id, done)
      send(slot, { kind: 'collect', id })
    })
  const instance: MetricsExposition = {
    contentType: supervision.registry.contentType,
    async metrics() {
      const parts = await Promise.all(live().map(collect))
      return aggregateMetrics([...parts.filter((part) => part !== undefined), (await supervision.registry.getMetricsAsJSON()) as MetricsJson])
    },
  }

  // A worker may be gone by the time an answer is ready: it is simply not waited for.
  const send = (slot: Slot, message: WorkerMessage) => {
    try {
      slot.process?.send(message)
    } catch {}
  }
  const readiness = new Map<number, { resolve(): void; reject(error: unknown): void }>()
  function onMessage(slot: Slot, message: WorkerMessage) {
    if (message.kind === 'ready') readiness.get(slot.index)?.resolve()
    else if (message.kind === 'collected') collects.get(message.id)?.(message.metrics)
    else if (message.kind === 'scrape') {
      void instance.metrics().then(
        (text) => send(slot, { kind: 'scraped', id: message.id, text }),
        (error) => logger.error('metrics scrape failed', { error: String(error) }),
      )
    }
  }

  function spawn(slot: Slot): Promise<void> {
    const child = Bun.spawn([process.execPath, Bun.main], {
      env: { ...process.env, PORT: String(port), [WORKER_INDEX_ENV]: String(slot.index) },
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      ipc: (message: WorkerMessage) => onMessage(slot, message),
    })
    slot.process = child
    slot.startedAt = Date.now()
    void copyLines(child.stdout, stdout)
    void copyLines(child.stderr, stderr)
    const ready = new Promise<void>((resolve, reject) => readiness.set(slot.index, { resolve, reject }))
    void child.exited.then(() => {
      const { exitCode, signalCode } = child
      readiness.get(slot.index)?.reject(new StartupError([{ setting: 'WORKERS', problem: `worker ${slot.index} exited (${exitCode ?? signalCode}) before it listened; its own lines above say why` }]))
      if (!stopping && started) restart(slot, exitCode, signalCode)
    })
    return ready.finally(() => readiness.delete(slot.index))
  }

  function restart(slot: Slot, code: number | null, signal: Subprocess['signalCode']) {
    slot.quickDeaths = Date.now() - slot.startedAt < QUICK_DEATH_MS ? slot.quickDeaths + 1 : 0
    const delay = Math.min(FIRST_RESTART_DELAY_MS * 2 ** slot.quickDeaths, LONGEST_RESTART_DELAY_MS)
    logger.error('worker exited; restarting it', { worker: slot.index, pid: slot.process?.pid, code, signal, restart_in_ms: delay })
    supervision.restarts.inc()
    slot.restartTimer = setTimeout(() => {
      if (stopping) return
      spawn(slot).then(
        () => logger.info('worker restarted', { worker: slot.index, pid: slot.process?.pid }),
        () => undefined,
      )
    }, delay)
  }

  async function stop(signal: string) {
    if (stopping) return
    stopping = true
    logger.info('shutting down', { signal, workers: live().length, grace_ms: config.SHUTDOWN_GRACE_MS })
    for (const slot of slots) clearTimeout(slot.restartTimer)
    const running = live()
    for (const slot of running) slot.process!.kill('SIGTERM')
    const drained = await Promise.race([Promise.all(running.map((slot) => slot.process!.exited)).then(() => true), Bun.sleep(config.SHUTDOWN_GRACE_MS + STOP_MARGIN_MS).then(() => false)])
    if (!drained) {
      logger.warn('workers still running after the grace period; killing them', { workers: live().map((slot) => slot.index) })
      for (const slot of live()) slot.process!.kill('SIGKILL')
    }
    await metricsListener?.stop(true)
    logger.info('stopped', { signal })
    await logger.flush()
    await Promise.all([stdout.flush(), stderr.flush()])
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))

  let metricsListener: ReturnType<typeof serveMetrics> | undefined
  if (config.METRICS_PORT !== undefined) {
    try {
      metricsListener = serveMetrics(instance, { hostname: config.HOST, port: config.METRICS_PORT })
    } catch (error) {
      throw addressInUse('METRICS_PORT', `${config.HOST}:${config.METRICS_PORT}`, error)
    }
  }
  try {
    // One at a time: worker 0 starts the background work before the others come up.
    for (const slot of slots) await spawn(slot)
  } catch (error) {
    stopping = true
    for (const slot of live()) slot.process!.kill('SIGTERM')
    await Promise.all(slots.map((slot) => slot.process?.exited))
    await metricsListener?.stop(true)
    await Promise.all([stdout.flush(), stderr.flush()])
    throw error
  }
  started = true
  logger.info('listening', { url: `http://${config.HOST}:${port}`, swagger: '/swagger', workers: config.WORKERS, pid: process.pid })
  if (metricsListener) logger.info('metrics listening', { url: `http://${config.HOST}:${metricsListener.port}/metrics` })
}

/**
 * Binds PORT alone for a moment: a port in use fails here with its usual line (the workers'
 * SO_REUSEPORT would otherwise share it with another server started the same way), and
 * PORT=0 becomes one port every worker then listens on.
 */
function reservePort(config: Config): number {
  try {
    const probe = Bun.serve({ hostname: config.HOST, port: config.PORT, reusePort: false, fetch: () => new Response(null, { status: 503 }) })
    const port = probe.port!
    probe.stop(true)
    return port
  } catch (error) {
    throw addressInUse('PORT', `${config.HOST}:${config.PORT}`, error)
  }
}
