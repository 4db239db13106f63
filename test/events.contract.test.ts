import { afterAll, describe, expect, test } from 'bun:test'
import type { EventBus } from '../src/infra/events'
import { memoryEventBus } from '../src/infra/events/memory'
import { redisEventBus } from '../src/infra/events/redis'
import { createRedis } from '../src/infra/redis'
import { newId } from '../src/lib/ids'
import { testRedis } from './support/redis'
import { eventually } from './support/eventually'

const redis = await testRedis()
const buses: EventBus[] = []
afterAll(async () => {
  for (const bus of buses) await bus.close()
  await redis.cleanup()
})

const errors: unknown[] = []
const onError = (error: unknown) => errors.push(error)

/**
 * Each adapter builds "deployments": the buses of the instances sharing one deployment
 * (one process for memory; separate connections under one key prefix for Redis).
 */
type Deployment = () => EventBus
const adapters: [string, () => Deployment][] = [
  [
    'memory',
    () => {
      const bus = memoryEventBus(onError)
      buses.push(bus)
      return () => bus
    },
  ],
  [
    'redis',
    () => {
      const prefix = `${redis.prefix}${newId()}:`
      return () => {
        const bus = redisEventBus(createRedis(redis.url, prefix), createRedis(redis.url, prefix), onError)
        buses.push(bus)
        return bus
      }
    },
  ],
]

const collect = async (bus: EventBus, channel: string) => {
  const got: unknown[] = []
  const unsubscribe = await bus.subscribe(channel, (m) => got.push(m))
  return { got, unsubscribe }
}

describe.each(adapters)('%s event bus', (_name, deployment) => {
  test('a message reaches every subscriber of its channel, on every instance, as a copy', async () => {
    const instance = deployment()
    const [a, b] = [instance(), instance()]
    const first = await collect(a, 'orders')
    const second = await collect(b, 'orders')
    const message = { order_id: 'o1', status: 'paid', at: '2026-11-27T10:00:00.000Z' }
    await a.publish('orders', message)
    await eventually(() => expect(second.got).toEqual([message]))
    await eventually(() => expect(first.got).toEqual([message]))
    expect(first.got[0]).not.toBe(message)
  })

  test('other channels and other deployments are not heard', async () => {
    const mine = deployment()()
    const theirs = deployment()()
    const listener = await collect(mine, 'orders')
    const probe = await collect(theirs, 'orders')
    await theirs.publish('orders', 'foreign')
    await eventually(() => expect(probe.got).toEqual(['foreign']))
    await mine.publish('elsewhere', 'other channel')
    await mine.publish('orders', 'marker')
    await eventually(() => expect(listener.got).toContain('marker'))
    expect(listener.got).toEqual(['marker'])
  })

  test('after unsubscribe nothing more arrives; the remaining subscriber still hears', async () => {
    const bus = deployment()()
    const leaving = await collect(bus, 'c')
    const staying = await collect(bus, 'c')
    await bus.publish('c', 1)
    await eventually(() => expect(leaving.got).toEqual([1]))
    await leaving.unsubscribe()
    await bus.publish('c', 2)
    await eventually(() => expect(staying.got).toEqual([1, 2]))
    expect(leaving.got).toEqual([1])
  })

  test('a throwing listener is reported and does not keep the message from the others', async () => {
    const bus = deployment()()
    const boom = new Error('listener bug')
    await bus.subscribe('c', () => {
      throw boom
    })
    const other = await collect(bus, 'c')
    await bus.publish('c', 'x')
    await eventually(() => expect(other.got).toEqual(['x']))
    expect(errors).toContain(boom)
  })

  test('many subscribers joining at once all hear the next message', async () => {
    const bus = deployment()()
    const listeners = await Promise.all(Array.from({ length: 20 }, () => collect(bus, 'burst')))
    await bus.publish('burst', 'go')
    await eventually(() => expect(listeners.map((l) => l.got)).toEqual(listeners.map(() => ['go'])))
  })
})
