import type { EventBus } from '.'
import { LocalListeners } from './local-listeners'

/** One instance: messages go straight to this process's subscribers, as copies (like Redis would). */
export function memoryEventBus(onError: (error: unknown) => void = () => undefined): EventBus {
  const listeners = new LocalListeners()
  return {
    async publish(channel, message) {
      const copy = JSON.parse(JSON.stringify(message))
      queueMicrotask(() => listeners.deliver(channel, copy, onError))
    },
    async subscribe(channel, listener) {
      listeners.add(channel, listener)
      return async () => void listeners.remove(channel, listener)
    },
    async close() {
      listeners.clear()
    },
  }
}
