import { afterAll, beforeAll } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp } from '../../src/app'
import { adapters, type AppDeps } from '../../src/deps'
import { SERVER_LIMITS } from '../../src/plugins/body-parsing'
import { loadConfig, type Config } from '../../src/config'
import { openDatabase } from '../../src/db/client'
import { systemClock, type Clock } from '../../src/lib/clock'
import { createLogger } from '../../src/lib/logger'
import { dataKeyFrom } from '../../src/lib/crypto'
import { localFileStore } from '../../src/infra/storage/local'
import { argon2id } from '../../src/modules/accounts'
import { users } from '../../src/modules/accounts/schema'
import type { Role } from '../../src/lib/access-tokens'
import { newId } from '../../src/lib/ids'
import { freshSecrets } from './secrets'
import { createRegion } from './fixtures'
import { AnswerRecord } from './declared-answers'
import { Registry } from 'prom-client'
import { createRedis } from '../../src/infra/redis'

export interface ApiResponse<T = any> {
  status: number
  body: T
  headers: Headers
}

export interface RequestOptions {
  token?: string
  body?: unknown
  headers?: Record<string, string>
  /** Send this exact body (string, FormData, bytes) instead of JSON. */
  raw?: RequestInit['body']
}

export type TestShop = Awaited<ReturnType<typeof startShop>>

export interface StartOptions {
  env?: Record<string, string>
  clock?: Clock
  deps?: Partial<AppDeps>
  /** Run on the real Redis (adapters in Redis mode) under this key prefix; see test/support/redis.ts. */
  redis?: { url: string; prefix: string }
  /** Reuse an existing database file (a second instance, or a restart). */
  databaseUrl?: string
}

/**
 * A real app on a real port with its own libSQL file and upload dir.
 * Argon2id runs with lighter parameters to keep the suite quick (still argon2id).
 */
export async function startShop(options: StartOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'shop-test-'))
  const config: Config = loadConfig(
    {
      NODE_ENV: 'test',
      DATABASE_URL: options.databaseUrl ?? `file:${join(dir, 'shop.db')}`,
      UPLOAD_DIR: join(dir, 'uploads'),
      ...freshSecrets(),
      RATE_LIMIT: 'off',
      CATALOG_CACHE_MS: '0',
      ...options.env,
    },
    join(dir, 'secrets.json'),
  )
  const database = await openDatabase({ url: config.DATABASE_URL })
  const redisOptions = options.redis
  const opened: { disconnect(): void }[] = []
  const logger = options.deps?.logger ?? createLogger(config.LOG_LEVEL)
  const deps: AppDeps = {
    config,
    database,
    clock: options.clock ?? systemClock,
    logger,
    files: localFileStore(config.UPLOAD_DIR),
    dataKeys: [dataKeyFrom(config.DATA_KEY)],
    passwords: argon2id(1024, 1),
    metrics: new Registry(),
    // The same choice as production (src/deps.ts), on the test Redis when asked for.
    ...adapters(
      logger,
      redisOptions
        ? (name) => {
            const client = createRedis(redisOptions.url, redisOptions.prefix, { connectionName: name })
            opened.push(client)
            return client
          }
        : undefined,
      config.REDIS_DURABILITY,
    ),
    ...options.deps,
  }
  const shop = createApp(deps)
  await shop.start()
  shop.app.listen({ hostname: '127.0.0.1', port: 0, ...SERVER_LIMITS })
  const url = `http://127.0.0.1:${shop.app.server!.port}`

  const answers = new AnswerRecord()
  async function request<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...opts.headers }
    if (opts.token) headers.authorization = `Bearer ${opts.token}`
    let body: RequestInit['body'] = opts.raw
    if (opts.body !== undefined) {
      headers['content-type'] ??= 'application/json'
      body = JSON.stringify(opts.body)
    }
    const res = await fetch(url + path, { method, headers, body })
    answers.add(method, path, res.status)
    const type = res.headers.get('content-type') ?? ''
    const parsed = type.includes('json') ? await res.json() : type.startsWith('text/') ? await res.text() : await res.arrayBuffer()
    return { status: res.status, body: parsed as T, headers: res.headers }
  }

  let counter = 0
  /** Registers through the API (argon2id and all); returns the auth answer. */
  async function register(name = 'Test User') {
    const email = `user${++counter}-${newId().slice(-8)}@example.com`
    const res = await request('POST', '/v1/auth/register', { body: { email, name, password: 'correct horse' } })
    if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`)
    return { ...res.body, email, password: 'correct horse', token: res.body.access_token as string, id: res.body.user.id as string }
  }

  /** A user written straight to the database with a signed token: fast fixtures for races. */
  async function createUser(roles: Role[] = ['customer'], name = 'Fixture User') {
    const id = newId()
    const now = new Date().toISOString()
    await database.write((tx) => tx.insert(users).values({ id, email: `${id}@fixtures.test`, name, passwordHash: null, roles, createdAt: now, updatedAt: now }))
    return { id, token: await shop.services.tokens.sign({ id, roles }) }
  }

  return {
    url,
    shop,
    deps,
    config,
    database,
    request,
    register,
    createUser,
    admin: () => createUser(['admin', 'customer'], 'Admin'),
    async close() {
      const doc = (await (await shop.app.handle(new Request('http://localhost/swagger/json'))).json()) as Parameters<AnswerRecord['undeclared']>[0]
      const undeclared = answers.undeclared(doc)
      await shop.app.stop(true)
      await shop.stop()
      for (const client of opened) client.disconnect()
      await database.close()
      rmSync(dir, { recursive: true, force: true })
      if (undeclared.length) throw new Error(`Answers met that the OpenAPI document does not declare: ${undeclared.join(', ')}`)
    },
  }
}

/** One shop for a whole test file: started before its tests (then `ready` sets up fixtures), closed after them. */
export function useShop(ready: (shop: TestShop) => unknown, options?: StartOptions) {
  let shop: TestShop | undefined
  beforeAll(async () => {
    shop = await startShop(options)
    await ready(shop)
  })
  afterAll(() => shop?.close())
}

export type Fixture = { id: string; token: string }

/** The usual cast of a test file: an admin, a customer and, with `region`, a region's id. */
export async function castOf(shop: TestShop, { region = false } = {}) {
  const [admin, customer] = [await shop.admin(), await shop.createUser()]
  return { s: shop, admin, customer, regionId: region ? (await createRegion(shop.database)).id : '' }
}
