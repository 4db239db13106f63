/**
 * Fire-and-forget messages between parts of the app and between instances: in-process
 * for one instance, Redis pub/sub when several share the work. Delivery is at most once
 * and only to subscribers connected at the time; anything that must not be lost lives in
 * the database (an order's timeline) and is replayed from there.
 */
export interface EventBus {
  /** Delivers a JSON-serialisable message to every subscriber of `channel`, on every instance. */
  publish(channel: string, message: unknown): Promise<void>
  /** Calls `listener` for every message published on `channel` once this resolves; resolves to the unsubscribe. */
  subscribe(channel: string, listener: (message: unknown) => void): Promise<() => Promise<void>>
  close(): Promise<void>
}
