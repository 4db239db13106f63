import { accessSync, constants, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import type { Config } from './config'
import { localDatabasePath } from './db/client'
import { StartupError, type StartupProblem } from './lib/startup-error'

/** Who this process runs as, for messages about permissions: `uid 1000 (bun)`. */
function currentUser(): string {
  const uid = process.getuid?.()
  if (uid === undefined) return 'this user'
  try {
    const { username } = userInfo()
    if (username && username !== 'unknown') return `uid ${uid} (${username})`
  } catch {
    // No passwd entry for this uid (a container run with --user 1234): the number says enough.
  }
  return `uid ${uid}`
}

/** Creates `dir` if needed and writes a file in it, as the server will; a problem naming `setting` otherwise. */
function writableDirProblem(setting: string, dir: string): StartupProblem | undefined {
  try {
    mkdirSync(dir, { recursive: true })
    const probe = join(dir, `.write-check-${process.pid}`)
    writeFileSync(probe, '')
    rmSync(probe)
    return undefined
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error)
    const uid = process.getuid?.() ?? 1000
    return {
      setting,
      problem: `directory ${resolve(dir)} is not writable by ${currentUser()} (${code}); give that user the directory (chown ${uid} ${resolve(dir)}, or mount a volume it owns) or point ${setting} at a writable place`,
    }
  }
}

/** A database file (or its WAL) left behind by another user, say root, that this one cannot write. */
function readOnlyFileProblem(setting: string, file: string): StartupProblem | undefined {
  for (const path of [file, `${file}-wal`, `${file}-shm`]) {
    if (!existsSync(path)) continue
    try {
      accessSync(path, constants.R_OK | constants.W_OK)
    } catch {
      return { setting, problem: `file ${resolve(path)} is not writable by ${currentUser()}; give that user the file (chown ${process.getuid?.() ?? 1000} ${resolve(path)})` }
    }
  }
  return undefined
}

/** Before anything opens them: the database file's directory and, without S3, the upload directory. */
export function checkWritablePaths(config: Config) {
  const problems: (StartupProblem | undefined)[] = []
  const file = localDatabasePath(config.DATABASE_URL)
  if (file) problems.push(writableDirProblem('DATABASE_URL', dirname(file)) ?? readOnlyFileProblem('DATABASE_URL', file))
  if (!config.S3_BUCKET) problems.push(writableDirProblem('UPLOAD_DIR', config.UPLOAD_DIR))
  const found = problems.filter((p) => p !== undefined)
  if (found.length) throw new StartupError(found)
}

/** Every message along an error's causes, first lines only, once each: `ECONNREFUSED: Unable to connect…`. */
function oneLine(error: unknown): string {
  const messages: string[] = []
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    const message = (e instanceof Error ? e.message : String(e)).split('\n')[0]!
    if (!messages.some((m) => m.includes(message))) messages.push(message)
  }
  return messages.join(': ')
}

/** A database URL without what may be a credential (user info, `?authToken=`). */
const withoutSecrets = (url: string) => url.replace(/\/\/[^/@]*@/, '//').replace(/\?.*$/, '')

/** Why the database could not be opened (or migrated), as the setting to look at. */
export function databaseStartupError(config: Pick<Config, 'DATABASE_URL'>, error: unknown): StartupError {
  const status = (error as { cause?: { status?: number } }).cause?.status
  if (status === 401 || status === 403) {
    return new StartupError([
      { setting: 'DATABASE_AUTH_TOKEN', problem: `${withoutSecrets(config.DATABASE_URL)} refused the token (HTTP ${status}); set a valid token for this database (turso db tokens create)` },
    ])
  }
  return new StartupError([{ setting: 'DATABASE_URL', problem: `cannot open or migrate the database at ${withoutSecrets(config.DATABASE_URL)}: ${oneLine(error)}` }])
}

/** What to log when start-up failed: one line per problem for a StartupError, the stack otherwise (a bug, not a setting). */
export function startupFailureLines(error: unknown): Record<string, unknown>[] {
  if (error instanceof StartupError) return error.problems.map((p) => ({ ...p }))
  return [{ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }]
}

/** A listener's port is taken: the setting to change (`PORT`, `METRICS_PORT`); any other error as it was. */
export function addressInUse(setting: string, address: string, error: unknown): unknown {
  if ((error as { code?: string }).code !== 'EADDRINUSE') return error
  return new StartupError([{ setting, problem: `${address} is already in use; stop what listens there or choose another ${setting}` }])
}
