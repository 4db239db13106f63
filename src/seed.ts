import { loadConfig } from './config'
import { createDeps } from './deps'
import { createApp } from './app'
import { seedDemo } from './seed-data'

/** `bun run seed`: demo data on the configured database. Idempotent. */
const config = loadConfig()
const deps = await createDeps(config)
const shop = createApp(deps)
const summary = await seedDemo(shop)
deps.logger.info('seeded', summary)
await deps.close()
await deps.logger.flush()
