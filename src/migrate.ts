import { loadConfig } from './config'
import { localDatabasePath, openDatabase } from './db/client'
import { createLogger } from './lib/logger'
import { StartupError } from './lib/startup-error'
import { databaseStartupError, startupFailureLines } from './startup'

/**
 * `bun src/migrate.ts`: applies pending migrations and exits, as a deploy's release step when
 * several machines share one remote database (fly.toml's `release_command`), so they do not
 * race to apply them at boot. The server applies pending migrations at start as well.
 */
const log = createLogger('info')
try {
  const config = loadConfig()
  // Fly runs a release command on a temporary machine without volumes: a local file there is a
  // fresh, throwaway one, and the real file would be left unmigrated until the server starts.
  if (process.env.RELEASE_COMMAND === '1' && localDatabasePath(config.DATABASE_URL)) {
    throw new StartupError([
      { setting: 'DATABASE_URL', problem: 'a local file cannot be migrated by a release command (its machine has no volume); remove release_command: the server migrates the file at start' },
    ])
  }
  const database = await openDatabase({ url: config.DATABASE_URL, authToken: config.DATABASE_AUTH_TOKEN, synchronous: config.DB_SYNCHRONOUS }).catch((error: unknown) => {
    throw databaseStartupError(config, error)
  })
  await database.close()
  log.info('migrations applied', {})
} catch (error) {
  for (const fields of startupFailureLines(error)) log.error('cannot migrate', fields)
  process.exitCode = 1
}
await log.flush()
