import { loadConfig, type Config } from './config'
import type { Shop } from './app'
import { SERVER_LIMITS } from './plugins/body-parsing'
import { createLogger } from './lib/logger'
import { startWatchdog } from './infra/watchdog'
import { workerIndex } from './infra/workers'
import { addressInUse, checkWritablePaths, startupFailureLines } from './startup'

/** A setting the operator can fix is one line naming it (no stack trace), and the exit is non-zero. */
async function cannotStart(error: unknown): Promise<never> {
  const log = createLogger('error')
  for (const fields of startupFailureLines(error)) log.error('cannot start', fields)
  await log.flush()
  process.exit(1)
}

/**
 * Everything before serving. `worker`: this process's index under WORKERS=N (the primary
 * checked the paths, migrated, and serves METRICS_PORT). The app is imported here, not at
 * the top: the primary of WORKERS=N never loads it.
 */
async function start(config: Config, worker: number | undefined) {
  if (worker === undefined) checkWritablePaths(config)
  const [{ createDeps }, { createApp }, { serveMetrics }] = await Promise.all([import('./deps'), import('./app'), import('./infra/metrics-listener')])
  const deps = await createDeps(config, worker)
  const shop: Shop = createApp(deps)
  await shop.start()
  try {
    // Workers share the port (the kernel spreads connections among them); a process alone must not share it unknowingly.
    shop.app.listen({ hostname: config.HOST, port: config.PORT, ...SERVER_LIMITS, reusePort: worker !== undefined })
  } catch (error) {
    throw addressInUse('PORT', `${config.HOST}:${config.PORT}`, error)
  }
  let metricsListener: ReturnType<typeof serveMetrics> | undefined
  if (worker !== undefined) {
    deps.logger.info('worker listening', { worker, pid: process.pid, background: deps.background })
    deps.channel?.ready()
    return { deps, shop, metricsListener }
  }
  deps.logger.info('listening', { url: `http://${config.HOST}:${shop.app.server?.port}`, swagger: '/swagger' })
  if (config.METRICS_PORT !== undefined) {
    try {
      metricsListener = serveMetrics(deps.metrics, { hostname: config.HOST, port: config.METRICS_PORT })
    } catch (error) {
      throw addressInUse('METRICS_PORT', `${config.HOST}:${config.METRICS_PORT}`, error)
    }
    deps.logger.info('metrics listening', { url: `http://${config.HOST}:${metricsListener.port}/metrics` })
  }
  return { deps, shop, metricsListener }
}

/** Serves until SIGTERM or SIGINT (or, for a worker, until its primary is gone), then drains and exits 0. */
async function serve(config: Config, worker: number | undefined) {
  const { deps, shop, metricsListener } = await start(config, worker).catch(cannotStart)
  const { logger } = deps
  let stopping = false
  /**
   * Stop accepting connections, let requests in flight finish (up to SHUTDOWN_GRACE_MS: an
   * event stream never ends by itself), then stop background work (the allocator hands its
   * lease back), and only then close Redis and the database those requests were using.
   */
  async function shutdown(signal: string) {
    if (stopping) return
    stopping = true
    logger.info('shutting down', { signal, grace_ms: config.SHUTDOWN_GRACE_MS, ...(worker === undefined ? {} : { worker }) })
    const drained = await Promise.race([shop.app.stop().then(() => true), Bun.sleep(config.SHUTDOWN_GRACE_MS).then(() => false)])
    if (!drained) {
      logger.warn('grace period over; closing the connections still open', {})
      await shop.app.stop(true)
    }
    await metricsListener?.stop(true)
    await shop.stop()
    await deps.close()
    logger.info('stopped', { signal, ...(worker === undefined ? {} : { worker }) })
    await logger.flush()
    process.exit(0)
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))
  // A worker whose primary died (killed, crashed) stops rather than serve unsupervised.
  deps.channel?.onPrimaryGone(() => void shutdown('primary gone'))
}

const worker = workerIndex()
const config = await Promise.resolve()
  .then(() => loadConfig())
  .catch(cannotStart)
// The watchdog starts first, so a boot that hangs (a stuck migration) is ended too.
if (config.WATCHDOG_STALL_MS > 0) startWatchdog(config.WATCHDOG_STALL_MS)
if (config.WORKERS > 1 && worker === undefined) await import('./primary').then(({ runPrimary }) => runPrimary(config)).catch(cannotStart)
else await serve(config, worker)
