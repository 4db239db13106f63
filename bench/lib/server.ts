/**
 * The processes under test, each its own Bun process as in production: the shop
 * (`src/main.ts`, production mode, on a fresh libSQL file, optionally on Redis) and the
 * baseline (a raw Bun.serve answering a small JSON).
 */
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { Subprocess } from 'bun'

export const REPO = resolve(import.meta.dir, '../..')

export interface Server {
  url: string
  /** Where its stdout and stderr go. */
  logPath: string
  stop(): Promise<void>
}

export interface ShopServer extends Server {
  databaseUrl: string
  jwtSecret: string
}

/** A port nobody listens on right now. */
function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = probe.port!
  probe.stop(true)
  return port
}

async function waitUntilServing(url: string, child: Subprocess, logPath: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}) before serving:\n${readFileSync(logPath, 'utf8').slice(-2000)}`)
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) return
    await Bun.sleep(100)
  }
  child.kill()
  throw new Error(`the server did not answer ${url} within ${timeoutMs} ms; log: ${logPath}`)
}

function spawnServer(cmd: string[], env: Record<string, string>, logPath: string) {
  const log = openSync(logPath, 'w')
  return Bun.spawn(cmd, { cwd: REPO, env, stdout: log, stderr: log })
}

const stopper =
  (child: Subprocess, after: () => void = () => {}) =>
  async () => {
    child.kill('SIGTERM')
    const exited = await Promise.race([child.exited.then(() => true), Bun.sleep(5000).then(() => false)])
    if (!exited) child.kill('SIGKILL')
    after()
  }

export interface ShopServerOptions {
  /** Directory for logs; the database goes in a fresh temp dir, removed on stop. */
  outDir: string
  redis?: { url: string; prefix: string }
  /** Extra flags for `bun` itself, e.g. `--cpu-prof-md` (bench/profile.ts). */
  bunFlags?: string[]
  /** Extra environment for the server, over the bench's own. */
  env?: Record<string, string>
}

export async function spawnShop(options: ShopServerOptions): Promise<ShopServer> {
  const dir = mkdtempSync(join(tmpdir(), 'shop-bench-'))
  mkdirSync(options.outDir, { recursive: true })
  const port = freePort()
  const databaseUrl = `file:${join(dir, 'shop.db')}`
  const jwtSecret = randomBytes(32).toString('base64url')
  const logPath = join(options.outDir, 'shop-server.log')
  const { REDIS_URL: _ignored, ...inherited } = process.env as Record<string, string>
  const env: Record<string, string> = {
    ...inherited,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    JWT_SECRET: jwtSecret,
    WEBHOOK_SECRET: randomBytes(32).toString('base64url'),
    DATA_KEY: randomBytes(32).toString('base64'),
    UPLOAD_DIR: join(dir, 'uploads'),
    RATE_LIMIT: 'off',
    ...(options.redis ? { REDIS_URL: options.redis.url, REDIS_KEY_PREFIX: options.redis.prefix } : {}),
    ...options.env,
  }
  const child = spawnServer(['bun', ...(options.bunFlags ?? []), 'src/main.ts'], env, logPath)
  const url = `http://127.0.0.1:${port}`
  await waitUntilServing(`${url}/health`, child, logPath)
  return { url, logPath, databaseUrl, jwtSecret, stop: stopper(child, () => rmSync(dir, { recursive: true, force: true })) }
}

export async function spawnBaseline(outDir: string): Promise<Server> {
  mkdirSync(outDir, { recursive: true })
  const port = freePort()
  const logPath = join(outDir, 'baseline-server.log')
  const child = spawnServer(['bun', 'bench/baseline-server.ts'], { ...(process.env as Record<string, string>), PORT: String(port) }, logPath)
  const url = `http://127.0.0.1:${port}`
  await waitUntilServing(url, child, logPath)
  return { url, logPath, stop: stopper(child) }
}
