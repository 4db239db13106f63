import { afterEach, describe, expect, test } from 'bun:test'
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { productionEnv, scratchDir, serverProcess } from './support/server-process'

const NOBODY = 65534
const asRoot = process.getuid?.() === 0
/** The server run as a user who cannot write where root can (root passes every permission check). */
const unprivileged = asRoot ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'bun', 'src/main.ts'] : ['bun', 'src/main.ts']

const cleanups: (() => void)[] = []
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()))
function scratch() {
  const { dir, remove } = scratchDir()
  cleanups.push(remove)
  // The unprivileged user must reach what the test makes inside.
  chmodSync(dir, 0o755)
  return dir
}

/** Runs a server expected to refuse to start: its exit code and the settings its lines name; it printed nothing else. */
async function refusal(env: Record<string, string>, command?: string[]) {
  const server = serverProcess(env, command)
  const code = await server.exited()
  const printed = server.lines.filter((line) => line.trim() !== '')
  const lines = server.logLines().filter((line) => line.msg === 'cannot start')
  // One line per problem and nothing else: no stack trace, no driver dump.
  expect(printed).toHaveLength(lines.length)
  return { code, lines, settings: lines.map((line) => line.setting), text: printed.join('\n') }
}

describe('start-up failures an operator can act on: one line each, naming the setting, exit non-zero', () => {
  test('production without its secrets names each missing one', async () => {
    const env = productionEnv(scratch())
    const { code, settings, text } = await refusal({ ...env, JWT_SECRET: '', DATA_KEY: '' })
    expect(code).toBe(1)
    expect(settings).toEqual(['JWT_SECRET', 'DATA_KEY'])
    expect(text).toContain('fly secrets set')
  })

  test('an invalid value names its setting', async () => {
    const { code, settings } = await refusal({ ...productionEnv(scratch()), PORT: 'http' })
    expect(code).toBe(1)
    expect(settings).toEqual(['PORT'])
  })

  test("a data directory the server's user cannot write names the path, the user and the fix", async () => {
    const dir = scratch()
    const readOnly = join(dir, 'read-only')
    mkdirSync(readOnly, { mode: 0o555 })
    chmodSync(readOnly, 0o555)
    const writable = join(dir, 'writable')
    mkdirSync(writable)
    chmodSync(writable, 0o777)
    const env = { ...productionEnv(dir), DATABASE_URL: `file:${join(readOnly, 'shop.db')}`, UPLOAD_DIR: join(writable, 'uploads') }
    const database = await refusal(env, unprivileged)
    expect(database.code).toBe(1)
    expect(database.settings).toEqual(['DATABASE_URL'])
    expect(database.text).toContain(readOnly)
    expect(database.text).toContain(`uid ${asRoot ? NOBODY : process.getuid!()}`)
    expect(database.text).toContain('chown')

    const uploads = await refusal({ ...env, DATABASE_URL: `file:${join(writable, 'shop.db')}`, UPLOAD_DIR: join(readOnly, 'uploads') }, unprivileged)
    expect(uploads.code).toBe(1)
    expect(uploads.settings).toEqual(['UPLOAD_DIR'])
  })

  test.skipIf(!asRoot)('a database file left by another user (root) is named, not reported as a libsql stack', async () => {
    const dir = scratch()
    const volume = join(dir, 'volume')
    mkdirSync(volume)
    chmodSync(volume, 0o777)
    const file = join(volume, 'shop.db')
    writeFileSync(file, '')
    chownSync(file, 0, 0)
    chmodSync(file, 0o644)
    const { code, settings, text } = await refusal({ ...productionEnv(dir), DATABASE_URL: `file:${file}`, UPLOAD_DIR: join(volume, 'uploads') }, unprivileged)
    expect(code).toBe(1)
    expect(settings).toEqual(['DATABASE_URL'])
    expect(text).toContain(`file ${file} is not writable`)
  })

  test('a database server that cannot be reached names DATABASE_URL', async () => {
    const closed = Bun.serve({ port: 0, fetch: () => new Response() })
    const port = closed.port
    closed.stop(true)
    const { code, settings, text } = await refusal({ ...productionEnv(scratch()), DATABASE_URL: `http://127.0.0.1:${port}` })
    expect(code).toBe(1)
    expect(settings).toEqual(['DATABASE_URL'])
    expect(text).toContain('ECONNREFUSED')
  })

  test('a database that refuses the token names DATABASE_AUTH_TOKEN and never prints the token', async () => {
    const turso = Bun.serve({ port: 0, fetch: () => Response.json({ error: 'Unauthorized' }, { status: 401 }) })
    try {
      const token = 'refused-token-value'
      const { code, settings, text } = await refusal({ ...productionEnv(scratch()), DATABASE_URL: `http://127.0.0.1:${turso.port}?authToken=${token}`, DATABASE_AUTH_TOKEN: token })
      expect(code).toBe(1)
      expect(settings).toEqual(['DATABASE_AUTH_TOKEN'])
      expect(text).toContain('HTTP 401')
      expect(text).not.toContain(token)
    } finally {
      turso.stop(true)
    }
  })

  test('WORKERS=2 without REDIS_URL names WORKERS (the workers would not share limits, queue and events)', async () => {
    const { code, settings, text } = await refusal({ ...productionEnv(scratch()), WORKERS: '2' })
    expect(code).toBe(1)
    expect(settings).toEqual(['WORKERS'])
    expect(text).toContain('REDIS_URL')
  })

  test('a port already in use names PORT, under WORKERS=2 too (the workers share the port only among themselves)', async () => {
    const taken = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response() })
    try {
      const { code, settings } = await refusal({ ...productionEnv(scratch()), PORT: String(taken.port), WORKERS: '2', REDIS_URL: 'redis://127.0.0.1:6379' })
      expect(code).toBe(1)
      expect(settings).toEqual(['PORT'])
    } finally {
      taken.stop(true)
    }
  })

  test('a port already in use names PORT', async () => {
    const taken = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response() })
    try {
      const { code, settings } = await refusal({ ...productionEnv(scratch()), PORT: String(taken.port) })
      expect(code).toBe(1)
      expect(settings).toEqual(['PORT'])
    } finally {
      taken.stop(true)
    }
  })
})

test('an unreachable Redis: a bounded wait, one clear line naming REDIS_URL, then serving degraded (no crash loop)', async () => {
  const closed = Bun.serve({ port: 0, fetch: () => new Response() })
  const port = closed.port
  closed.stop(true)
  const started = Date.now()
  const server = serverProcess({ ...productionEnv(scratch()), REDIS_URL: `redis://127.0.0.1:${port}` })
  try {
    const url = await server.url()
    expect(Date.now() - started).toBeLessThan(20_000)
    expect((await fetch(`${url}/health`)).status).toBe(200)
    const ready = await fetch(`${url}/ready`)
    expect(ready.status).toBe(503)
    expect(((await ready.json()) as { checks: Record<string, string> }).checks.database).toBe('ok')
    const warnings = server.logLines().filter((line) => line.level === 'warn' && line.setting === 'REDIS_URL')
    expect(warnings.map((line) => line.msg)).toEqual(['redis unreachable at start-up; serving degraded until it answers'])
    // ioredis's own reports of each reconnect stay out of the log.
    expect(server.lines.filter((line) => line.includes('Unhandled error event'))).toEqual([])
    server.kill('SIGTERM')
    expect(await server.exited()).toBe(0)
  } finally {
    server.kill()
  }
}, 40_000)

describe('bun src/migrate.ts (a release step)', () => {
  test('applies the migrations and exits 0; run again, it finds nothing to do and exits 0', async () => {
    const dir = scratch()
    const env = productionEnv(dir)
    const migrate = serverProcess(env, ['bun', 'src/migrate.ts'])
    expect(await migrate.exited()).toBe(0)
    expect(migrate.logLines().map((line) => line.msg)).toEqual(['migrations applied'])
    const again = serverProcess(env, ['bun', 'src/migrate.ts'])
    expect(await again.exited()).toBe(0)
  })

  test('on a release machine (no volume) it refuses a local file, naming DATABASE_URL', async () => {
    const env = { ...productionEnv(scratch()), RELEASE_COMMAND: '1' }
    const migrate = serverProcess(env, ['bun', 'src/migrate.ts'])
    expect(await migrate.exited()).toBe(1)
    expect(migrate.logLines()).toEqual([expect.objectContaining({ msg: 'cannot migrate', setting: 'DATABASE_URL' })])
  })

  test('an unreachable database names DATABASE_URL', async () => {
    const closed = Bun.serve({ port: 0, fetch: () => new Response() })
    const port = closed.port
    closed.stop(true)
    const migrate = serverProcess({ ...productionEnv(scratch()), DATABASE_URL: `http://127.0.0.1:${port}`, RELEASE_COMMAND: '1' }, ['bun', 'src/migrate.ts'])
    expect(await migrate.exited()).toBe(1)
    expect(migrate.logLines()).toEqual([expect.objectContaining({ msg: 'cannot migrate', setting: 'DATABASE_URL' })])
  })
})
