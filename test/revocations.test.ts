import { afterAll, describe, expect, test } from 'bun:test'
import { startShop, type TestShop } from './support/harness'
import { testRedis } from './support/redis'

const started: TestShop[] = []
afterAll(async () => {
  for (const s of started.reverse()) await s.close()
})
const start = async (...args: Parameters<typeof startShop>) => {
  const s = await startShop(...args)
  started.push(s)
  return s
}

async function eraseAccount(s: TestShop) {
  const u = await s.register('Soon Gone')
  expect((await s.request('DELETE', '/v1/me', { token: u.token, body: { password: u.password } })).status).toBe(204)
  return u
}

describe("an erased account's unexpired access token", () => {
  test('is refused at once on user and customer routes (401, not a new cart)', async () => {
    const s = await start()
    const u = await eraseAccount(s)
    for (const [method, path] of [
      ['GET', '/v1/me'],
      ['GET', '/v1/cart'],
      ['GET', '/v1/orders'],
    ] as const) {
      const res = await s.request(method, path, { token: u.token })
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toStartWith('Bearer')
    }
  })

  test('is refused by an instance started after the erasure (reloaded from the database)', async () => {
    const first = await start()
    const u = await eraseAccount(first)
    const second = await start({ databaseUrl: first.config.DATABASE_URL, env: { JWT_SECRET: first.config.JWT_SECRET, DATA_KEY: first.config.DATA_KEY } })
    expect((await second.request('GET', '/v1/cart', { token: u.token })).status).toBe(401)
  })

  test('is refused by another running instance on the same Redis', async () => {
    const redis = await testRedis()
    try {
      const a = await start({ redis })
      const b = await start({ redis, databaseUrl: a.config.DATABASE_URL, env: { JWT_SECRET: a.config.JWT_SECRET, DATA_KEY: a.config.DATA_KEY } })
      const u = await a.register('Two Instances')
      expect((await b.request('GET', '/v1/cart', { token: u.token })).status).toBe(200)
      expect((await a.request('DELETE', '/v1/me', { token: u.token, body: { password: u.password } })).status).toBe(204)
      let status = 0
      for (let i = 0; i < 50 && status !== 401; i++) {
        status = (await b.request('GET', '/v1/cart', { token: u.token })).status
        if (status !== 401) await Bun.sleep(20)
      }
      expect(status).toBe(401)
    } finally {
      await redis.cleanup()
    }
  })
})
