export interface SseEvent {
  id?: string
  event?: string
  data?: any
}

/**
 * An SSE client over fetch (headers allowed, unlike EventSource): collects events and comment
 * lines. A null token sends no Authorization header (a ticket in the URL, or nothing).
 */
export async function openEvents(url: string, token: string | null, lastEventId?: string, more: Record<string, string> = {}) {
  const abort = new AbortController()
  const headers: Record<string, string> = { accept: 'text/event-stream', ...more }
  if (token !== null) headers.authorization = `Bearer ${token}`
  if (lastEventId !== undefined) headers['last-event-id'] = lastEventId
  const response = await fetch(url, { headers, signal: abort.signal })
  const events: SseEvent[] = []
  const comments: string[] = []
  const stream = { response, events, comments, ended: false, close: () => abort.abort() }
  if (response.status !== 200 || !response.body) return stream
  void (async () => {
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for await (const chunk of response.body!) {
        buffer += decoder.decode(chunk, { stream: true })
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const frame = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const event: SseEvent = {}
          for (const line of frame.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim())
            else if (line.startsWith('id: ')) event.id = line.slice(4)
            else if (line.startsWith('event: ')) event.event = line.slice(7)
            else if (line.startsWith('data: ')) event.data = JSON.parse(line.slice(6))
          }
          if (event.event) events.push(event)
        }
      }
    } catch {
      // aborted by close()
    }
    stream.ended = true
  })()
  return stream
}
