import type Redis from 'ioredis'
import type { EventBus } from '.'
import { LocalListeners } from './local-listeners'
import { whenReady } from '../redis'

/** Without an offline queue, ioredis refuses commands until the connection is ready: a bounded wait for it. */
const reachable = (client: Redis) => whenReady(client, client.options.connectTimeout ?? 2000)

async function ready(client: Redis) {
  if (!(await reachable(client))) throw new Error('Redis is not reachable')
}

/**
 * Redis pub/sub, so a message raised on one instance reaches subscribers on all of them
 * (this one included, through Redis). One Redis subscription per channel, fanned out
 * locally. `subscriber` is given over to pub/sub mode: it must be a connection of its own.
 * ioredis does not apply its key prefix to channel names, so it is applied here.
 */
export function redisEventBus(publisher: Redis, subscriber: Redis, onError: (error: unknown) => void = () => undefined): EventBus {
  const prefix = publisher.options.keyPrefix ?? ''
  const local = new LocalListeners()
  // Listeners arriving while their channel's SUBSCRIBE is in flight wait for the same one.
  const subscriptions = new Map<string, Promise<unknown>>()
  // ioredis's own resubscribe after a reconnect leaves its SUBSCRIBE's rejection unhandled
  // when the connection drops again mid-handshake (seen at shutdown): resubscribe here instead.
  subscriber.options.autoResubscribe = false
  subscriber.on('ready', () => {
    const channels = [...subscriptions.keys()].map((channel) => prefix + channel)
    if (channels.length) subscriber.subscribe(...channels).catch(onError)
  })
  subscriber.on('message', (channel: string, raw: string) => {
    if (!channel.startsWith(prefix)) return
    let message: unknown
    try {
      message = JSON.parse(raw)
    } catch (error) {
      return onError(error)
    }
    local.deliver(channel.slice(prefix.length), message, onError)
  })
  return {
    async publish(channel, message) {
      await ready(publisher)
      await publisher.publish(prefix + channel, JSON.stringify(message))
    },
    async subscribe(channel, listener) {
      // A Redis that is down keeps the listener: the 'ready' handler subscribes its channel once
      // Redis answers, so a Redis outage at boot does not stop the service from starting.
      if (local.add(channel, listener))
        subscriptions.set(
          channel,
          reachable(subscriber).then((up) => up && subscriber.subscribe(prefix + channel)),
        )
      try {
        await subscriptions.get(channel)
      } catch (error) {
        if (local.remove(channel, listener)) subscriptions.delete(channel)
        throw error
      }
      return async () => {
        if (!local.remove(channel, listener)) return
        subscriptions.delete(channel)
        if (subscriber.status === 'ready') await subscriber.unsubscribe(prefix + channel)
      }
    },
    async close() {
      local.clear()
      subscriptions.clear()
      publisher.disconnect()
      subscriber.disconnect()
    },
  }
}
