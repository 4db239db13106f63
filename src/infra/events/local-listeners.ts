type Listener = (message: unknown) => void

/**
 * Subscribers by channel, for one instance: the in-process bus, the local fan-out of the
 * Redis adapter, and modules fanning one subscription out to many streams.
 */
export class LocalListeners {
  private readonly byChannel = new Map<string, Set<Listener>>()

  /** Adds a listener; true when it is the channel's first. */
  add(channel: string, listener: Listener): boolean {
    const listeners = this.byChannel.get(channel) ?? new Set()
    this.byChannel.set(channel, listeners)
    listeners.add(listener)
    return listeners.size === 1
  }

  /** Adds a listener for as long as it is wanted: returns its removal. */
  listen(channel: string, listener: Listener): () => void {
    this.add(channel, listener)
    return () => void this.remove(channel, listener)
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
