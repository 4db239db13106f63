import { afterAll, beforeAll, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { startShop, type ApiResponse, type TestShop } from './support/harness'
import { eventually } from './support/eventually'
import { ownRedis } from './support/redis'
import { httpErrors } from '../src/plugins/http-errors'
import { createRedis } from '../src/infra/redis'
import { createLogger } from '../src/lib/logger'

/** Polls until the answer has `status` (bounded): an outage and a reconnect are noticed when they are. */
const until = (read: () => Promise<ApiResponse>, status: number) =>
  eventually(async () => {
    const res = await read()
    expect(res.status).toBe(status)
    return res
  })

const redis = ownRedis()
let s: TestShop
beforeAll(async () => {
  await redis.start()
  s = await startShop({ redis: { url: redis.url, prefix: 'outage:' }, env: { RATE_LIMIT: 'on' } })
})
afterAll(async () => {
  await s?.close()
  await redis.stop()
  redis.cleanup()
})

const photo = '/v1/photos/00000000-0000-0000-0000-000000000000.webp'

test('Redis stopped: /ready 503, login closed, reads open; restarted: recovery without restarting the app', async () => {
  const u = await s.register()
  const login = () => s.request('POST', '/v1/auth/login', { body: { email: u.email, password: u.password } })
  const ready = await s.request('GET', '/ready')
  expect(ready.status).toBe(200)
  expect(ready.body.checks.redis).toBe('ok')
  expect((await login()).headers.get('ratelimit-limit')).toBeString()
  const heard: unknown[] = []
  await s.shop.services.events.subscribe('outage-check', (message) => heard.push(message))

  await redis.stop()
  const down = await until(() => s.request('GET', '/ready'), 503)
  // ok or down, never Redis's own error text (it named the host and port).
  expect(down.body).toEqual({ status: 'unavailable', checks: { database: 'ok', files: 'ok', redis: 'down' } })

  const refused = await login()
  expect(refused.status).toBe(503)
  expect(refused.body.code).toBe('service_unavailable')
  expect(refused.headers.get('retry-after')).toBeString()
  const read = await s.request('GET', photo)
  expect(read.status).toBe(404)
  expect(read.headers.get('ratelimit-limit')).toBeNull()
  expect((await s.request('GET', '/v1/me', { token: u.token })).status).toBe(200)

  await redis.start()
  const back = await until(() => s.request('GET', '/ready'), 200)
  expect(back.body.checks.redis).toBe('ok')
  const again = await until(login, 200)
  expect(again.headers.get('ratelimit-remaining')).toBeString()
  // The event bus subscribed again on its own: a message published now is heard.
  await eventually(async () => {
    await s.shop.services.events.publish('outage-check', { after: 'restart' })
    await Bun.sleep(20)
    expect(heard).toContainEqual({ after: 'restart' })
  })
})

test('a route whose Redis call fails answers 503 service_unavailable at once, not a hang or a 500', async () => {
  await redis.stop()
  const client = createRedis(redis.url, 'outage:').on('error', () => {})
  const app = new Elysia({ normalize: false })
    .use(httpErrors({ logger: createLogger('silent'), multipartRoutes: [] }))
    .get('/hot', async () => ({ value: await client.get('anything') }))
    .listen({ hostname: '127.0.0.1', port: 0 })
  try {
    const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`http://127.0.0.1:${app.server!.port}/hot`)))
    for (const res of answers) {
      expect(res.status).toBe(503)
      expect(((await res.json()) as { code: string }).code).toBe('service_unavailable')
    }
  } finally {
    client.disconnect()
    await app.stop(true)
    await redis.start()
  }
})
