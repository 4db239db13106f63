import type { EventBus } from '.'

type Listener = (message: unknown) => void

/** Subscribers by channel, for one instance; also the local fan-out of the Redis adapter. */
export class LocalListeners {
  private readonly byChannel = new Map<string, Set<Listener>>()

  /** Adds a listener; true when it is the channel's first. */
  add(channel: string, listener: Listener): boolean {
    const listeners = this.byChannel.get(channel) ?? new Set()
    this.byChannel.set(channel, listeners)
    listeners.add(listener)
    return listeners.size === 1
  }

  /** Removes a listener; true when the channel has none left. */
  remove(channel: string, listener: Listener): boolean {
    const listeners = this.byChannel.get(channel)
    if (!listeners?.delete(listener)) return false
    if (listeners.size) return false
    this.byChannel.delete(channel)
    return true
  }

  /** A throwing listener must not keep the message from the others. */
  deliver(channel: string, message: unknown, onError: (error: unknown) => void) {
    for (const listener of [...(this.byChannel.get(channel) ?? [])]) {
      try {
        listener(message)
      } catch (error) {
        onError(error)
      }
    }
  }

  clear() {
    this.byChannel.clear()
  }
}

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
