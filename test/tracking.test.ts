import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startShop, type TestShop } from './support/harness'
import { shopping } from './support/shopping'
import { eventually } from './support/eventually'
import { openEvents } from './support/sse'
import { testRedis } from './support/redis'
import { OrderTracking } from '../src/modules/orders/tracking'
import { memoryEventBus } from '../src/infra/events/memory'
import { createLogger } from '../src/lib/logger'

let s: TestShop
beforeAll(async () => {
  s = await startShop()
})
afterAll(() => s.close())

const card = { method: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2099, cvc: '123', holder: 'ANA' } }

const placed = (target = s) => shopping(target).placedOrder()

describe('GET /v1/orders/{id}/events', () => {
  test('the current status at once, then paid live when the card payment lands', async () => {
    const { u, order } = await placed()
    const stream = await openEvents(`${s.url}/v1/orders/${order.id}/events`, u.token)
    expect(stream.response.status).toBe(200)
    expect(stream.response.headers.get('content-type')).toBe('text/event-stream')
    await eventually(() => expect(stream.events).toHaveLength(1))
    expect(stream.events[0]).toEqual({ id: expect.stringMatching(/^\d+$/), event: 'status', data: { status: 'pending_payment', at: order.created_at } })
    expect((await s.request('POST', `/v1/orders/${order.id}/payments`, { token: u.token, body: card })).status).toBe(201)
    await eventually(() => expect(stream.events.map((e) => e.data.status)).toEqual(['pending_payment', 'paid']))
    expect(Number(stream.events[1]!.id)).toBeGreaterThan(Number(stream.events[0]!.id))
    stream.close()
  })

  test('Last-Event-ID replays what was missed, from the timeline', async () => {
    const { u, order } = await placed()
    const first = await openEvents(`${s.url}/v1/orders/${order.id}/events`, u.token)
    await eventually(() => expect(first.events).toHaveLength(1))
    first.close()
    await s.request('POST', `/v1/orders/${order.id}/payments`, { token: u.token, body: card })
    await s.shop.services.gateway.idle()
    const admin = await s.admin()
    await s.request('PATCH', `/v1/orders/${order.id}`, { token: admin.token, body: { status: 'shipped' } })
    const again = await openEvents(`${s.url}/v1/orders/${order.id}/events`, u.token, first.events[0]!.id)
    await eventually(() => expect(again.events.map((e) => e.data.status)).toEqual(['paid', 'shipped']))
    // Nothing missed: the current status again, so the client always hears something at once.
    const caughtUp = await openEvents(`${s.url}/v1/orders/${order.id}/events`, u.token, again.events[1]!.id)
    await eventually(() => expect(caughtUp.events.map((e) => e.data.status)).toEqual(['shipped']))
    again.close()
    caughtUp.close()
  })

  test('a final status ends the stream; reconnecting after it answers 204 (clients stop retrying)', async () => {
    const { u, order } = await placed()
    await s.request('DELETE', `/v1/orders/${order.id}`, { token: u.token })
    const stream = await openEvents(`${s.url}/v1/orders/${order.id}/events`, u.token)
    await eventually(() => expect(stream.ended).toBe(true))
    expect(stream.events.map((e) => e.data.status)).toEqual(['cancelled'])
    const again = await openEvents(`${s.url}/v1/orders/${order.id}/events`, u.token, stream.events[0]!.id)
    expect(again.response.status).toBe(204)
  })

  test('an admin may watch; 401 without a token; 422 for a Last-Event-ID that is not an id', async () => {
    const { u, order } = await placed()
    const admin = await s.admin()
    const watching = await openEvents(`${s.url}/v1/orders/${order.id}/events`, admin.token)
    await eventually(() => expect(watching.events).toHaveLength(1))
    watching.close()
    expect((await fetch(`${s.url}/v1/orders/${order.id}/events`)).status).toBe(401)
    expect((await openEvents(`${s.url}/v1/orders/${order.id}/events`, u.token, 'abc')).response.status).toBe(422)
  })

  test('heartbeat comment lines keep a quiet stream alive', async () => {
    const { order } = await placed()
    const tracking = new OrderTracking({ database: s.database, events: memoryEventBus(), logger: createLogger('silent'), heartbeatMs: 20 })
    const reader = (await tracking.open(order.id))!.body!.getReader()
    const seen: string[] = []
    while (seen.filter((chunk) => chunk === ': heartbeat\n\n').length < 2) seen.push(new TextDecoder().decode((await reader.read()).value))
    expect(seen[0]).toStartWith('id: ')
    await reader.cancel()
  })
})

describe('with Redis, across instances', () => {
  test('an event raised on one instance reaches a client connected to another', async () => {
    const redis = await testRedis()
    const env = { JWT_SECRET: 'a-shared-secret-of-at-least-32-chars!!', DATA_KEY: Buffer.alloc(32, 7).toString('base64') }
    const one = await startShop({ redis, env })
    const two = await startShop({ redis, env, databaseUrl: one.config.DATABASE_URL })
    try {
      const { u, order } = await placed(one)
      const stream = await openEvents(`${two.url}/v1/orders/${order.id}/events`, u.token)
      await eventually(() => expect(stream.events).toHaveLength(1))
      await one.request('POST', `/v1/orders/${order.id}/payments`, { token: u.token, body: card })
      await eventually(() => expect(stream.events.map((e) => e.data.status)).toEqual(['pending_payment', 'paid']))
      stream.close()
    } finally {
      await two.close()
      await one.close()
      await redis.cleanup()
    }
  })
})
