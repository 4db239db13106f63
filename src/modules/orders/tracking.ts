import { and, asc, desc, eq, gt, type SQL } from 'drizzle-orm'
import type { Database } from '../../db/client'
import type { EventBus } from '../../infra/events'
import type { Logger } from '../../lib/logger'
import { LocalListeners } from '../../infra/events/local-listeners'
import { liveEvents } from '../../lib/sse'
import { TRANSITIONS } from './state-machine'
import { ORDER_STATUS_CHANNEL, type OrderStatusEvent } from './lifecycle-types'
import { orderTimeline, type OrderStatus, type TimelineEvent } from './schema'

interface StatusEntry {
  id: number
  status: OrderStatus
  at: string
  event?: TimelineEvent | null
  paymentId?: string | null
}

const isFinal = (status: OrderStatus) => TRANSITIONS[status].length === 0

export interface OrderTrackingDeps {
  database: Database
  events: EventBus
  logger: Logger
  heartbeatMs?: number
  /** True while money of the order may still move (a void or refund not yet confirmed): its stream waits for what follows a final status. */
  moneyInMotion?: (orderId: string) => Promise<boolean>
}

/**
 * Live order status as Server-Sent Events. One bus subscription per instance, fanned out to
 * the open streams by order id. A stream subscribes before it reads the timeline and drops
 * what it already sent, so an event landing in between is neither lost nor sent twice.
 */
export class OrderTracking {
  private readonly streams = new LocalListeners()
  private subscription?: Promise<unknown>

  constructor(private readonly deps: OrderTrackingDeps) {}

  /**
   * The stream of one order: what the client missed after `lastEventId` (timeline row ids are
   * the event ids), or the current status, then every change live. Null when the order has
   * reached a final status and the client has seen it, money included: nothing more will
   * come (SSE clients stop reconnecting on a 204).
   */
  async open(orderId: string, lastEventId?: number): Promise<Response | null> {
    const { logger, heartbeatMs, moneyInMotion = async () => false } = this.deps
    const latest = await this.latest(orderId)
    if (!latest || (lastEventId !== undefined && lastEventId >= latest.id && isFinal(latest.status) && !(await moneyInMotion(orderId)))) return null
    await this.subscribe()
    return liveEvents(async (sink) => {
      let lastSent = 0
      let pending: StatusEntry[] | null = []
      let ending = false
      let recheck = false
      const send = (entry: StatusEntry) => {
        if (sink.ended || entry.id <= lastSent) return
        lastSent = entry.id
        const { id, status, at, event, paymentId } = entry
        sink.send('status', event ? { status, at, event, payment_id: paymentId } : { status, at }, id)
        if (!isFinal(entry.status)) return
        if (ending) recheck = true
        else void end()
      }
      // Nothing follows a final status but its money events: once none is awaited, what
      // committed meanwhile is sent and the stream ends (a reconnect then gets a 204).
      const end = async () => {
        ending = true
        try {
          if (await moneyInMotion(orderId)) return
          for (const entry of await this.after(orderId, lastSent)) send(entry)
          sink.end()
        } catch (error) {
          logger.warn('order stream not ended', { order_id: orderId, error: String(error) })
        } finally {
          ending = false
        }
        // An entry came while this looked: it may be the one that was awaited.
        if (recheck && !sink.ended) {
          recheck = false
          void end()
        }
      }
      sink.onEnd(
        this.streams.listen(orderId, (message) => {
          const { event_id: id, status, at, event, payment_id: paymentId } = message as OrderStatusEvent
          const entry = { id, status, at, event, paymentId }
          if (pending) pending.push(entry)
          else send(entry)
        }),
      )
      const missed = lastEventId === undefined ? [] : await this.after(orderId, lastEventId)
      for (const entry of missed.length ? missed : [(await this.latest(orderId))!]) send(entry)
      const live = pending
      pending = null
      for (const entry of live) send(entry)
      logger.debug('order stream opened', { order_id: orderId })
    }, heartbeatMs)
  }

  private async subscribe() {
    this.subscription ??= this.deps.events.subscribe(ORDER_STATUS_CHANNEL, (message) =>
      this.streams.deliver((message as OrderStatusEvent).order_id, message, (error) => this.deps.logger.warn('order stream failed', { error: String(error) })),
    )
    try {
      await this.subscription
    } catch (error) {
      this.subscription = undefined
      throw error
    }
  }

  private entries(where: SQL | undefined, order: SQL) {
    const { id, status, at, event, paymentId } = orderTimeline
    return this.deps.database.db.select({ id, status, at, event, paymentId }).from(orderTimeline).where(where).orderBy(order)
  }

  private after(orderId: string, lastEventId: number): Promise<StatusEntry[]> {
    return this.entries(and(eq(orderTimeline.orderId, orderId), gt(orderTimeline.id, lastEventId)), asc(orderTimeline.id))
  }

  private latest(orderId: string): Promise<StatusEntry | undefined> {
    return this.entries(eq(orderTimeline.orderId, orderId), desc(orderTimeline.id)).get()
  }
}
