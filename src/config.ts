import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { Type as T, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { randomBytes } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { RATE_PATTERN } from './lib/rates'
import { StartupError } from './lib/startup-error'

const Port = T.Integer({ minimum: 0, maximum: 65535 })
const OnOff = T.Union([T.Literal('on'), T.Literal('off')])
const Rate = T.String({ pattern: RATE_PATTERN })

/** Every setting the service reads, validated once at boot. */
const ConfigSchema = T.Object({
  NODE_ENV: T.Union([T.Literal('development'), T.Literal('production'), T.Literal('test')]),
  HOST: T.String({ minLength: 1 }),
  PORT: Port,
  DATABASE_URL: T.String({ pattern: '^(file:|libsql://|https?://|wss?://)' }),
  DATABASE_AUTH_TOKEN: T.Optional(T.String()),
  DB_SYNCHRONOUS: T.Union([T.Literal('NORMAL'), T.Literal('FULL')]),
  REDIS_URL: T.Optional(T.String({ pattern: '^rediss?://' })),
  REDIS_KEY_PREFIX: T.String(),
  REDIS_DURABILITY: T.Union([T.Literal('require'), T.Literal('warn'), T.Literal('off')]),
  JWT_SECRET: T.String({ minLength: 32 }),
  WEBHOOK_SECRET: T.String({ minLength: 16 }),
  DATA_KEY: T.String({ minLength: 40 }),
  DATA_KEYS_PREVIOUS: T.Optional(T.String()),
  UPLOAD_DIR: T.String({ minLength: 1 }),
  PUBLIC_URL: T.Optional(T.String({ pattern: '^https?://[^?#\\s]+$' })),
  ADMIN_EMAIL: T.Optional(T.String({ pattern: '^[^@\\s]+@[^@\\s]+$' })),
  ADMIN_PASSWORD: T.Optional(T.String({ minLength: 8, maxLength: 128 })),
  PAYMENT_CHECK_DELAY_MS: T.Integer({ minimum: 0 }),
  PAYMENT_GATEWAY: T.Literal('fake'),
  GATEWAY_TIMEOUT_MS: T.Integer({ minimum: 100, maximum: 120_000 }),
  RECONCILE_EVERY_MS: T.Integer({ minimum: 0 }),
  FLASH_SALE_ALLOCATOR: OnOff,
  CATALOG_CACHE_MS: T.Integer({ minimum: 0, maximum: 60_000 }),
  RATE_LIMIT: OnOff,
  RATE_LIMIT_ANONYMOUS: Rate,
  RATE_LIMIT_USER: Rate,
  RATE_LIMIT_AUTH_IP: Rate,
  RATE_LIMIT_AUTH_EMAIL: Rate,
  RATE_LIMIT_AUTH_EMAIL_BACKSTOP: Rate,
  RATE_LIMIT_REGISTER: Rate,
  RATE_LIMIT_FLASH_SALE_ENTRY: Rate,
  CORS_ORIGINS: T.Array(T.String()),
  TRUSTED_PROXY: T.Optional(T.String()),
  CLIENT_IP_HEADER: T.String({ pattern: '^[a-z0-9-]+$' }),
  S3_BUCKET: T.Optional(T.String()),
  S3_ENDPOINT: T.Optional(T.String({ pattern: '^https?://' })),
  S3_REGION: T.Optional(T.String()),
  S3_ACCESS_KEY_ID: T.Optional(T.String()),
  S3_SECRET_ACCESS_KEY: T.Optional(T.String()),
  METRICS_TOKEN: T.Optional(T.String({ minLength: 16 })),
  METRICS_PORT: T.Optional(Port),
  SHUTDOWN_GRACE_MS: T.Integer({ minimum: 0 }),
  WATCHDOG_STALL_MS: T.Integer({ minimum: 0 }),
  LOG_LEVEL: T.Union([T.Literal('debug'), T.Literal('info'), T.Literal('warn'), T.Literal('error'), T.Literal('silent')]),
  WORKERS: T.Integer({ minimum: 1, maximum: 64 }),
})
export type Config = Static<typeof ConfigSchema>

type Env = Record<string, string | undefined>

const GENERATED_SECRETS = ['JWT_SECRET', 'WEBHOOK_SECRET', 'DATA_KEY'] as const

/**
 * Outside production, a missing secret is generated once and kept in `data/secrets.json`,
 * so tokens and encrypted data survive restarts of a dev server.
 */
function devSecrets(path: string, env: Env): Record<string, string> {
  const kept: Record<string, string> = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {}
  let changed = false
  for (const name of GENERATED_SECRETS) {
    if (env[name] || kept[name]) continue
    kept[name] = randomBytes(32).toString(name === 'DATA_KEY' ? 'base64' : 'base64url')
    changed = true
  }
  if (changed) {
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, JSON.stringify(kept, null, 2), { mode: 0o600 })
  }
  return kept
}

/** `auto`: one server process per core when they can share state (Redis), one otherwise. */
const workerCount = (value: string | undefined, shared: boolean) => (value === 'auto' ? (shared ? availableParallelism() : 1) : Number(value ?? 1))

/** Settings valid alone but not together. */
function combinationProblems(config: Config) {
  const problems: { setting: string; problem: string }[] = []
  const n = config.WORKERS
  if (n > 1 && !config.REDIS_URL) {
    problems.push({
      setting: 'WORKERS',
      problem: `WORKERS=${n} needs REDIS_URL: the worker processes share rate limits, the flash-sale queue and order events through Redis; set REDIS_URL, or WORKERS=1 (auto gives 1 without Redis)`,
    })
  }
  if (n > 1 && config.DATABASE_URL.startsWith('file:') && config.DATABASE_URL.includes(':memory:')) {
    problems.push({ setting: 'WORKERS', problem: `WORKERS=${n} cannot share an in-memory database (each process would have its own); use a file or WORKERS=1` })
  }
  return problems
}

const csv = (value: string | undefined) =>
  value
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : []

/** Reads and validates the environment; throws one clear message listing every problem. */
export function loadConfig(env: Env = process.env, secretsPath = 'data/secrets.json'): Config {
  const nodeEnv = env.NODE_ENV ?? 'development'
  const production = nodeEnv === 'production'
  if (production) {
    const missing = GENERATED_SECRETS.filter((name) => !env[name])
    if (missing.length) {
      const problems = missing.map((setting) => ({ setting, problem: 'required when NODE_ENV=production and not set; set it as a secret (fly secrets set, docker run -e)' }))
      throw new StartupError(problems, `Refusing to start in production without ${missing.join(', ')} (set them in the environment)`)
    }
  }
  const secrets = production ? {} : devSecrets(secretsPath, env)
  const raw = {
    NODE_ENV: nodeEnv,
    HOST: env.HOST ?? (production ? '0.0.0.0' : '127.0.0.1'),
    PORT: Number(env.PORT ?? 3000),
    DATABASE_URL: env.DATABASE_URL ?? 'file:data/shop.db',
    DATABASE_AUTH_TOKEN: env.DATABASE_AUTH_TOKEN || undefined,
    DB_SYNCHRONOUS: env.DB_SYNCHRONOUS ?? 'NORMAL',
    REDIS_URL: env.REDIS_URL || undefined,
    REDIS_KEY_PREFIX: env.REDIS_KEY_PREFIX ?? 'shop:',
    REDIS_DURABILITY: env.REDIS_DURABILITY ?? 'warn',
    JWT_SECRET: env.JWT_SECRET ?? secrets.JWT_SECRET,
    WEBHOOK_SECRET: env.WEBHOOK_SECRET ?? secrets.WEBHOOK_SECRET,
    DATA_KEY: env.DATA_KEY ?? secrets.DATA_KEY,
    DATA_KEYS_PREVIOUS: env.DATA_KEYS_PREVIOUS || undefined,
    UPLOAD_DIR: env.UPLOAD_DIR ?? 'data/uploads',
    PUBLIC_URL: env.PUBLIC_URL || undefined,
    ADMIN_EMAIL: env.ADMIN_EMAIL || undefined,
    ADMIN_PASSWORD: env.ADMIN_PASSWORD || undefined,
    PAYMENT_CHECK_DELAY_MS: Number(env.PAYMENT_CHECK_DELAY_MS ?? 60_000),
    PAYMENT_GATEWAY: env.PAYMENT_GATEWAY ?? 'fake',
    GATEWAY_TIMEOUT_MS: Number(env.GATEWAY_TIMEOUT_MS ?? 10_000),
    RECONCILE_EVERY_MS: Number(env.RECONCILE_EVERY_MS ?? 15_000),
    FLASH_SALE_ALLOCATOR: env.FLASH_SALE_ALLOCATOR ?? 'on',
    CATALOG_CACHE_MS: Number(env.CATALOG_CACHE_MS ?? 250),
    RATE_LIMIT: env.RATE_LIMIT ?? 'on',
    RATE_LIMIT_ANONYMOUS: env.RATE_LIMIT_ANONYMOUS ?? '600/1m',
    RATE_LIMIT_USER: env.RATE_LIMIT_USER ?? '1200/1m',
    RATE_LIMIT_AUTH_IP: env.RATE_LIMIT_AUTH_IP ?? '30/1m',
    RATE_LIMIT_AUTH_EMAIL: env.RATE_LIMIT_AUTH_EMAIL ?? '10/15m',
    RATE_LIMIT_AUTH_EMAIL_BACKSTOP: env.RATE_LIMIT_AUTH_EMAIL_BACKSTOP ?? '100/1h',
    RATE_LIMIT_REGISTER: env.RATE_LIMIT_REGISTER ?? '10/1h',
    RATE_LIMIT_FLASH_SALE_ENTRY: env.RATE_LIMIT_FLASH_SALE_ENTRY ?? '20/1m',
    CORS_ORIGINS: csv(env.CORS_ORIGINS),
    TRUSTED_PROXY: env.TRUSTED_PROXY || undefined,
    CLIENT_IP_HEADER: (env.CLIENT_IP_HEADER ?? 'x-forwarded-for').toLowerCase(),
    S3_BUCKET: env.S3_BUCKET || undefined,
    S3_ENDPOINT: env.S3_ENDPOINT || undefined,
    S3_REGION: env.S3_REGION || undefined,
    S3_ACCESS_KEY_ID: env.S3_ACCESS_KEY_ID || undefined,
    S3_SECRET_ACCESS_KEY: env.S3_SECRET_ACCESS_KEY || undefined,
    METRICS_TOKEN: env.METRICS_TOKEN || undefined,
    METRICS_PORT: env.METRICS_PORT ? Number(env.METRICS_PORT) : undefined,
    SHUTDOWN_GRACE_MS: Number(env.SHUTDOWN_GRACE_MS ?? 8_000),
    WATCHDOG_STALL_MS: Number(env.WATCHDOG_STALL_MS ?? 10_000),
    LOG_LEVEL: env.LOG_LEVEL ?? (nodeEnv === 'test' ? 'silent' : 'info'),
    WORKERS: workerCount(env.WORKERS, Boolean(env.REDIS_URL)),
  }
  const invalid = [...Value.Errors(ConfigSchema, raw)].map((e) => ({ setting: e.path.slice(1) || 'config', problem: e.message }))
  const problems = invalid.length ? invalid : combinationProblems(raw as Config)
  if (problems.length) throw new StartupError(problems, `Invalid configuration:\n  ${problems.map((p) => `${p.setting}: ${p.problem}`).join('\n  ')}`)
  return raw as Config
}
