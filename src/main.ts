import { loadConfig } from './config'
import { createDeps } from './deps'
import { createApp } from './app'
import { SERVER_BODY_CAP_BYTES } from './plugins/body-parsing'

const config = loadConfig()
const deps = await createDeps(config)
const { logger } = deps
const shop = createApp(deps)
await shop.start()
shop.app.listen({ hostname: config.HOST, port: config.PORT, maxRequestBodySize: SERVER_BODY_CAP_BYTES })
logger.info('listening', { url: `http://${config.HOST}:${shop.app.server?.port}`, swagger: '/swagger' })

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
  await shop.stop()
  await deps.close()
  logger.info('stopped', { signal })
  await logger.flush()
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))
