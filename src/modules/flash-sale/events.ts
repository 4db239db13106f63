import type { EventBus } from '../../infra/events'
import { LocalListeners } from '../../infra/events/local-listeners'
import type { Logger } from '../../lib/logger'
import { liveEvents } from '../../lib/sse'
import { ORDER_STATUS_CHANNEL, type OrderStatusEvent } from '../orders'
import type { MyEntryDto } from './model'

const ENTRY_CHANNEL = 'flash-sale-entries'

/** Something changed in a drop: for these customers, or (no `user_ids`) for anyone in it. */
export interface EntryChange {
  drop_id: string
  user_ids?: string[]
}

/** Nothing follows these: the stream ends after sending one. */
const FINAL = new Set<MyEntryDto['status']>(['lost', 'expired'])

export interface EntryEventsDeps {
  events: EventBus
  logger: Logger
  /** The customer's entry as `GET …/entries/me` answers it. */
  entryOf(userId: string, dropId: string): Promise<MyEntryDto>
  /** The drop of a flash-sale order (an expiry changes that drop's waitlist). */
  dropOfOrder(orderId: string): Promise<string | null>
  heartbeatMs?: number
}

/**
 * Pushes a customer's entry as Server-Sent Events whenever it may have changed: the
 * allocator decided it, an unpaid winner passed a unit down the waitlist, the drop closed.
 * The signals only say "look again"; the entry itself is re-read, so a lost signal costs a
 * late update, never a wrong one. One bus subscription per channel per instance.
 */
export class EntryEvents {
  private readonly streams = new LocalListeners()
  private subscriptions?: Promise<unknown>

  constructor(private readonly deps: EntryEventsDeps) {}

  /** Best effort: a customer who misses it still has `GET …/entries/me`. */
  async changed(change: EntryChange) {
    await this.deps.events.publish(ENTRY_CHANNEL, change).catch((error) => this.deps.logger.warn('flash-sale change not published', { error: String(error) }))
  }

  /** The stream of one entry: its current state at once, then each change. Throws 404 like `entries/me`. */
  async open(userId: string, dropId: string): Promise<Response> {
    const { heartbeatMs, entryOf } = this.deps
    await this.subscribe()
    const first = await entryOf(userId, dropId)
    return liveEvents((sink) => {
      let last = ''
      let reading = Promise.resolve()
      const send = (entry: MyEntryDto) => {
        const json = JSON.stringify(entry)
        if (json === last) return
        last = json
        sink.send('entry', entry)
        if (FINAL.has(entry.status)) sink.end()
      }
      sink.onEnd(
        this.streams.listen(dropId, (message) => {
          const { user_ids } = message as EntryChange
          if (user_ids && !user_ids.includes(userId)) return
          reading = reading.then(() => entryOf(userId, dropId).then(send, () => undefined))
        }),
      )
      send(first)
    }, heartbeatMs)
  }

  private subscribe() {
    const { events, logger, dropOfOrder } = this.deps
    const deliver = (change: EntryChange) => this.streams.deliver(change.drop_id, change, (error) => logger.warn('flash-sale stream failed', { error: String(error) }))
    this.subscriptions ??= Promise.all([
      events.subscribe(ENTRY_CHANNEL, (message) => deliver(message as EntryChange)),
      // An unpaid, cancelled or refunded winner: someone in that drop may have been promoted.
      events.subscribe(ORDER_STATUS_CHANNEL, (message) => {
        const { source, status, order_id, event } = message as OrderStatusEvent
        if (source !== 'flash_sale' || event || (status !== 'unpaid' && status !== 'cancelled' && status !== 'refunded')) return
        void dropOfOrder(order_id).then(
          (dropId) => dropId && deliver({ drop_id: dropId }),
          () => undefined,
        )
      }),
    ]).catch((error) => {
      this.subscriptions = undefined
      throw error
    })
    return this.subscriptions
  }
}
