import { loadConfig } from './config'
import { createDeps } from './deps'
import { createApp } from './app'

const config = loadConfig()
const deps = await createDeps(config)
const shop = createApp(deps)
await shop.start()
shop.app.listen({ hostname: config.HOST, port: config.PORT, maxRequestBodySize: 8 * 1024 * 1024 })
deps.logger.info('listening', { url: `http://${config.HOST}:${shop.app.server?.port}`, swagger: '/swagger' })

let stopping = false
async function shutdown(signal: string) {
  if (stopping) return
  stopping = true
  deps.logger.info('shutting down', { signal })
  await shop.app.stop()
  await shop.stop()
  deps.database.close()
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))
