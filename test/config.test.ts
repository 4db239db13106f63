import { describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, statSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config'

const tmp = () => join(mkdtempSync(join(tmpdir(), 'shop-config-')), 'secrets.json')
const secrets = { JWT_SECRET: 'j'.repeat(40), WEBHOOK_SECRET: 'w'.repeat(40), DATA_KEY: Buffer.alloc(32, 7).toString('base64') }

describe('configuration', () => {
  test('production refuses to start without its secrets and names each missing one', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' }, tmp())).toThrow(/JWT_SECRET, WEBHOOK_SECRET, DATA_KEY/)
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: secrets.JWT_SECRET, DATA_KEY: secrets.DATA_KEY }, tmp())).toThrow(/without WEBHOOK_SECRET/)
  })

  test('production with secrets binds 0.0.0.0 and keeps safe defaults', () => {
    const config = loadConfig({ NODE_ENV: 'production', ...secrets }, tmp())
    expect(config).toMatchObject({ HOST: '0.0.0.0', PORT: 3000, DATABASE_URL: 'file:data/shop.db', RATE_LIMIT: 'on', PAYMENT_GATEWAY: 'fake' })
  })

  test('development generates missing secrets once, keeps them private, and reuses them', () => {
    const path = tmp()
    const first = loadConfig({}, path)
    expect(first.HOST).toBe('127.0.0.1')
    expect(first.JWT_SECRET.length).toBeGreaterThanOrEqual(32)
    expect(Buffer.from(first.DATA_KEY, 'base64')).toHaveLength(32)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(loadConfig({}, path).JWT_SECRET).toBe(first.JWT_SECRET)
    expect(JSON.parse(readFileSync(path, 'utf8')).WEBHOOK_SECRET).toBe(first.WEBHOOK_SECRET)
  })

  test('bad values fail fast with one message naming every problem', () => {
    let message = ''
    try {
      loadConfig({ ...secrets, PORT: 'abc', DATABASE_URL: 'postgres://x', RATE_LIMIT: 'maybe' }, tmp())
    } catch (error) {
      message = String(error)
    }
    expect(message).toContain('PORT')
    expect(message).toContain('DATABASE_URL')
    expect(message).toContain('RATE_LIMIT')
  })

  test('PUBLIC_URL is unset by default and must be an http(s) URL without query or fragment', () => {
    expect(loadConfig({ ...secrets }, tmp()).PUBLIC_URL).toBeUndefined()
    expect(loadConfig({ ...secrets, PUBLIC_URL: 'https://api.shop.example' }, tmp()).PUBLIC_URL).toBe('https://api.shop.example')
    for (const bad of ['api.shop.example', 'ftp://x', 'https://x/?a=1']) expect(() => loadConfig({ ...secrets, PUBLIC_URL: bad }, tmp())).toThrow(/PUBLIC_URL/)
  })

  test('the watchdog limit defaults to 10 s (0 turns it off); METRICS_PORT is unset unless given, and must be a port', () => {
    const defaults = loadConfig({ ...secrets }, tmp())
    expect(defaults.WATCHDOG_STALL_MS).toBe(10_000)
    expect(defaults.METRICS_PORT).toBeUndefined()
    expect(loadConfig({ ...secrets, WATCHDOG_STALL_MS: '0', METRICS_PORT: '9091' }, tmp())).toMatchObject({ WATCHDOG_STALL_MS: 0, METRICS_PORT: 9091 })
    expect(() => loadConfig({ ...secrets, METRICS_PORT: '70000' }, tmp())).toThrow(/METRICS_PORT/)
    expect(() => loadConfig({ ...secrets, WATCHDOG_STALL_MS: '-1' }, tmp())).toThrow(/WATCHDOG_STALL_MS/)
  })

  test('WORKERS defaults to 1; auto is one per core with REDIS_URL and 1 without; more than 1 needs REDIS_URL and a file', () => {
    const redis = { REDIS_URL: 'redis://127.0.0.1:6379' }
    expect(loadConfig({ ...secrets }, tmp()).WORKERS).toBe(1)
    expect(loadConfig({ ...secrets, WORKERS: 'auto' }, tmp()).WORKERS).toBe(1)
    expect(loadConfig({ ...secrets, ...redis, WORKERS: 'auto' }, tmp()).WORKERS).toBe(availableParallelism())
    expect(loadConfig({ ...secrets, ...redis, WORKERS: '3' }, tmp()).WORKERS).toBe(3)
    expect(() => loadConfig({ ...secrets, WORKERS: '2' }, tmp())).toThrow(/WORKERS=2 needs REDIS_URL/)
    expect(() => loadConfig({ ...secrets, ...redis, WORKERS: '2', DATABASE_URL: 'file::memory:' }, tmp())).toThrow(/in-memory/)
    expect(() => loadConfig({ ...secrets, ...redis, WORKERS: 'many' }, tmp())).toThrow(/WORKERS/)
    expect(() => loadConfig({ ...secrets, ...redis, WORKERS: '0' }, tmp())).toThrow(/WORKERS/)
  })

  test('a short JWT secret is refused', () => {
    expect(() => loadConfig({ ...secrets, JWT_SECRET: 'short' }, tmp())).toThrow(/JWT_SECRET/)
  })
})
