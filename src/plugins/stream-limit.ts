import type { StreamSlots } from '../infra/stream-slots'
import type { Clock } from '../lib/clock'
import { AppError } from '../lib/errors'
import { newId } from '../lib/ids'
import type { Logger } from '../lib/logger'

export interface StreamLimitOptions {
  /** In-process, or shared through Redis so the limit holds across instances (chosen in deps.ts). */
  slots: StreamSlots
  clock: Clock
  logger: Logger
  /** Open event streams one user may hold at once. */
  perUser: number
  /** How often an open stream renews its slot's lease (well inside the lease). */
  renewMs?: number
}

export type StreamLimit = ReturnType<typeof streamLimit>

const isEventStream = (value: unknown): value is Response & { body: ReadableStream<Uint8Array> } =>
  value instanceof Response && value.body !== null && value.headers.get('content-type') === 'text/event-stream'

/**
 * At most `perUser` open event streams per user: each holds a slot from the moment its answer
 * is ready until the client goes away or the stream ends. A slot store that cannot be reached
 * lets the stream through (streams are read-only; refusing them would take tracking down with Redis).
 */
export function streamLimit({ slots, clock, logger, perUser, renewMs = 20_000 }: StreamLimitOptions) {
  const unavailable = (error: unknown) => logger.warn('stream slots unavailable', { error: String(error) })

  /** The stream answer, holding a slot; 429 (the stream closed unread) when the user holds every slot already. */
  async function hold(userId: string, answer: unknown): Promise<Response | undefined> {
    if (!isEventStream(answer)) return undefined
    const slot = newId()
    const taken = await slots.take(userId, slot, perUser, clock.now()).catch((error) => {
      unavailable(error)
      return true
    })
    if (!taken) {
      await answer.body.cancel()
      throw new AppError(429, 'rate_limited', `At most ${perUser} event streams may be open per user; close one first`, { headers: { 'retry-after': '5' } })
    }
    const renewal = setInterval(() => void slots.renew(userId, slot, clock.now()).catch(unavailable), renewMs)
    renewal.unref()
    let held = true
    const release = () => {
      if (!held) return
      held = false
      clearInterval(renewal)
      void slots.release(userId, slot).catch(unavailable)
    }
    const reader = answer.body.getReader()
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read()
          if (!done) return controller.enqueue(value)
          release()
          controller.close()
        } catch (error) {
          release()
          controller.error(error)
        }
      },
      cancel(reason) {
        release()
        return reader.cancel(reason)
      },
    })
    return new Response(body, { status: answer.status, headers: answer.headers })
  }

  return { hold }
}
