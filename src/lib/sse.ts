const encoder = new TextEncoder()

/** One Server-Sent Event. */
export const sseFrame = (event: string, data: unknown, id?: string | number) =>
  encoder.encode(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)

/** A comment line: ignored by clients, but keeps proxies and NATs from closing a quiet stream. */
export const sseHeartbeat = encoder.encode(': heartbeat\n\n')

/** Personal and live: never stored, never buffered on the way (`X-Accel-Buffering` is nginx's switch). */
export const sseResponse = (stream: ReadableStream<Uint8Array>) =>
  new Response(stream, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-store, no-transform', 'x-accel-buffering': 'no' } })
