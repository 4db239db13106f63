// Uploads stop being read once over their limit, declared or not; images wider or taller
// than 8,192 px are refused from their header; a body that stops making progress is closed
// within 10 s, while event streams stay open.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startShop, type TestShop } from './support/harness'
import { photoForm, pixelBombPng, pngBytes } from './support/images'
import { openEvents } from './support/sse'
import { shopping } from './support/shopping'
import { eventually } from './support/eventually'

let s: TestShop
let token: string
beforeAll(async () => {
  s = await startShop()
  token = (await s.register()).token
})
afterAll(() => s.close())

/** A raw HTTP/1.1 connection to the test server: what it answered, and when. */
async function rawConnection(head: string) {
  const { port } = new URL(s.url)
  const started = performance.now()
  let answer = ''
  const closed = Promise.withResolvers<void>()
  const drained = { wake: () => {} }
  const socket = await Bun.connect({
    hostname: '127.0.0.1',
    port: Number(port),
    socket: {
      data: (_s, bytes) => void (answer += bytes.toString()),
      drain: () => drained.wake(),
      close: () => closed.resolve(),
      error: () => closed.resolve(),
    },
  })
  socket.write(head)
  return {
    answer: () => answer,
    closed: closed.promise.then(() => (performance.now() - started) / 1000),
    /** Writes all of `bytes`, waiting while the server does not read; false once the connection is gone or answered. */
    async write(bytes: Uint8Array) {
      let offset = 0
      while (offset < bytes.length) {
        if (answer || socket.readyState !== 1) return false
        const written = socket.write(bytes.subarray(offset))
        offset += Math.max(0, written)
        if (offset < bytes.length) await Promise.race([new Promise<void>((wake) => (drained.wake = wake)), Bun.sleep(50)])
      }
      return true
    },
    end: () => socket.end(),
  }
}

test('a chunked photo upload with no Content-Length is refused (413) once past the limit, not read on to the server cap', async () => {
  const boundary = 'shopboundary'
  const conn = await rawConnection(
    `PUT /v1/me/photo HTTP/1.1\r\nHost: shop\r\nAuthorization: Bearer ${token}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nTransfer-Encoding: chunked\r\n\r\n`,
  )
  const chunk = (bytes: Uint8Array) => Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')])
  await conn.write(chunk(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="photo"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n`)))
  const piece = chunk(new Uint8Array(256 * 1024))
  let sent = 0
  // Up to 64 MB, Bun's own cap: the server must answer long before.
  while (sent < 64 * 1024 * 1024 && (await conn.write(piece))) sent += piece.length
  await eventually(() => expect(conn.answer()).toStartWith('HTTP/1.1 413'))
  expect(conn.answer()).toContain('payload_too_large')
  // 6 MB read, plus what socket buffers held on the way.
  expect(sent).toBeLessThan(24 * 1024 * 1024)
  conn.end()
})

test('a chunked photo upload within the limit still works', async () => {
  const form = new Response(photoForm(await pngBytes(300, 200)))
  const type = form.headers.get('content-type')!
  const bytes = new Uint8Array(await form.arrayBuffer())
  const body = new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 1000) controller.enqueue(bytes.subarray(i, i + 1000))
      controller.close()
    },
  })
  const res = await fetch(`${s.url}/v1/me/photo`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': type }, body })
  const answer = (await res.json()) as { photo_url: string }
  expect({ status: res.status, answer }).toMatchObject({ status: 200 })
  expect(answer.photo_url).toStartWith('/v1/photos/')
})

test('images wider or taller than 8,192 px are refused (415) from the header, even within 25 megapixels', async () => {
  // 1 × 20,000,000: 20 MP, 80 KB of PNG; shrinking it cost seconds of CPU.
  const needle = pixelBombPng(1, 20_000_000, { decodable: true })
  expect(needle.length).toBeLessThan(200_000)
  for (const image of [needle, pixelBombPng(8193, 1, { decodable: true })]) {
    const res = await s.request('PUT', '/v1/me/photo', { token, raw: photoForm(image) })
    expect(res.status).toBe(415)
    expect(res.body.detail).toContain('8192 px')
  }
  expect((await s.request('PUT', '/v1/me/photo', { token, raw: photoForm(await pngBytes(8192, 2)) })).status).toBe(200)
})

test('a body that stops making progress is closed within 10 s; an event stream open as long is not', async () => {
  const { u, order } = await shopping(s).placedOrder()
  const events = await openEvents(`${s.url}/v1/orders/${order.id}/events`, u.token)
  expect(events.response.status).toBe(200)

  const stalled = await rawConnection(`PATCH /v1/me HTTP/1.1\r\nHost: shop\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":`)
  const closedAfter = await stalled.closed
  expect(closedAfter).toBeLessThanOrEqual(10.5)
  await Bun.sleep(Math.max(0, 12_000 - closedAfter * 1000))

  // Twelve quiet seconds later the stream still delivers.
  expect(events.ended).toBe(false)
  expect((await s.request('DELETE', `/v1/orders/${order.id}`, { token: u.token })).status).toBe(200)
  await eventually(() => expect(events.events.at(-1)?.data?.status).toBe('cancelled'))
  events.close()
}, 30_000)
