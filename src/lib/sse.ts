const encoder = new TextEncoder()

/** How often a stream sends a heartbeat comment. */
const HEARTBEAT_MS = 15_000
/** Bun closes a connection idle for 10 s; the heartbeat keeps a stream busy, so its route allows a bit more than the period. */
export const STREAM_IDLE_SECONDS = HEARTBEAT_MS / 1000 + 10

/** A comment line: ignored by clients, but keeps proxies and NATs from closing a quiet stream. */
const heartbeat = encoder.encode(': heartbeat\n\n')

const frame = (event: string, data: unknown, id?: number) => encoder.encode(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)

/** Where a live stream's source sends. */
export interface EventSink {
  /** One Server-Sent Event; nothing once the stream has ended. */
  send(event: string, data: unknown, id?: number): void
  /** Nothing more will come: the stream ends. */
  end(): void
  /** Whether it has: the source ended it, the client left, or the server closed the connection on shutdown. */
  readonly ended: boolean
  /** Runs `cleanup` (a listener's removal) when the stream ends. */
  onEnd(cleanup: () => void): void
}

/**
 * A live Server-Sent Events answer (order tracking, flash-sale entries): what `start` sends
 * (it listens first, then sends what is due at once), with a heartbeat every `heartbeatMs`;
 * personal and live (never stored, never buffered on the way: `X-Accel-Buffering` is nginx's switch).
 *
 * Hand-made rather than Elysia's `sse()` with async generators: in a paired run (200 order
 * streams over loopback, 20 status events each, server CPU, 6 pairs, medians) the generators
 * cost 44 µs more a stream opened (+12 %) and 9 µs more an event (+50 %). A Response is also
 * what the stream-limit plugin counts.
 */
export function liveEvents(start: (sink: EventSink) => void | Promise<void>, heartbeatMs = HEARTBEAT_MS): Response {
  let stop = () => {}
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      let ended = false
      const cleanups: (() => void)[] = []
      const timer = setInterval(() => controller.enqueue(heartbeat), heartbeatMs)
      stop = () => {
        if (ended) return
        ended = true
        clearInterval(timer)
        for (const cleanup of cleanups) cleanup()
      }
      const sink: EventSink = {
        send(event, data, id) {
          if (!ended) controller.enqueue(frame(event, data, id))
        },
        end() {
          if (ended) return
          stop()
          controller.close()
        },
        get ended() {
          return ended
        },
        onEnd(cleanup) {
          if (ended) cleanup()
          else cleanups.push(cleanup)
        },
      }
      try {
        await start(sink)
      } catch (error) {
        stop()
        controller.error(error)
      }
    },
    cancel: () => stop(),
  })
  return new Response(body, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-store, no-transform', 'x-accel-buffering': 'no' } })
}
