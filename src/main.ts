import { loadConfig } from './config'
import { createDeps } from './deps'
import { createApp } from './app'
import { SERVER_LIMITS } from './plugins/body-parsing'
import { createLogger } from './lib/logger'
import { startWatchdog } from './infra/watchdog'
import { serveMetrics } from './infra/metrics-listener'
import { addressInUse, checkWritablePaths, startupFailureLines } from './startup'

/** Everything before serving. The watchdog starts first, so a boot that hangs (a stuck migration) is ended too. */
async function start() {
  const config = loadConfig()
  if (config.WATCHDOG_STALL_MS > 0) startWatchdog(config.WATCHDOG_STALL_MS)
  checkWritablePaths(config)
  const deps = await createDeps(config)
  const shop = createApp(deps)
  await shop.start()
  try {
    shop.app.listen({ hostname: config.HOST, port: config.PORT, ...SERVER_LIMITS })
  } catch (error) {
    throw addressInUse('PORT', `${config.HOST}:${config.PORT}`, error)
  }
  deps.logger.info('listening', { url: `http://${config.HOST}:${shop.app.server?.port}`, swagger: '/swagger' })
  let metricsListener: ReturnType<typeof serveMetrics> | undefined
  if (config.METRICS_PORT !== undefined) {
    try {
      metricsListener = serveMetrics(deps.metrics, { hostname: config.HOST, port: config.METRICS_PORT })
    } catch (error) {
      throw addressInUse('METRICS_PORT', `${config.HOST}:${config.METRICS_PORT}`, error)
    }
    deps.logger.info('metrics listening', { url: `http://${config.HOST}:${metricsListener.port}/metrics` })
  }
  return { config, deps, shop, metricsListener }
}

// A setting the operator can fix is one line naming it (no stack trace), and the exit is non-zero.
const { config, deps, shop, metricsListener } = await start().catch(async (error: unknown) => {
  const log = createLogger('error')
  for (const fields of startupFailureLines(error)) log.error('cannot start', fields)
  await log.flush()
  process.exit(1)
})
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
  logger.info('shutting down', { signal, grace_ms: config.SHUTDOWN_GRACE_MS })
  const drained = await Promise.race([shop.app.stop().then(() => true), Bun.sleep(config.SHUTDOWN_GRACE_MS).then(() => false)])
  if (!drained) {
    logger.warn('grace period over; closing the connections still open', {})
    await shop.app.stop(true)
  }
  await metricsListener?.stop(true)
  await shop.stop()
  await deps.close()
  logger.info('stopped', { signal })
  await logger.flush()
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))
