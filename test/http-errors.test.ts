import { describe, expect, test } from 'bun:test'
import { Elysia, t } from 'elysia'
import { httpErrors } from '../src/plugins/http-errors'
import { createLogger } from '../src/lib/logger'

function appWithLog() {
  const lines: string[] = []
  const app = new Elysia({ normalize: false })
    .use(httpErrors({ logger: createLogger('info', (line) => lines.push(line)), multipartRoutes: [] }))
    .get('/boom', () => {
      throw new Error('secret internals at /srv/db password=hunter2')
    })
    .get('/leak', () => ({ id: 'x', password_hash: 'argon2id$…' }), { response: { 200: t.Object({ id: t.String() }) } })
  return { app, lines }
}

describe('unexpected errors', () => {
  test('a 500 shows no message or stack, and its request id is logged', async () => {
    const { app, lines } = appWithLog()
    const res = await app.handle(new Request('http://local/boom'))
    expect(res.status).toBe(500)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    const text = await res.text()
    expect(text).not.toContain('secret internals')
    expect(text).not.toContain('hunter2')
    expect(text).not.toContain('at ')
    const body = JSON.parse(text)
    expect(body).toMatchObject({ status: 500, code: 'internal' })
    expect(res.headers.get('x-request-id')).toBe(body.request_id)
    expect(lines.some((l) => l.includes(body.request_id) && l.includes('secret internals'))).toBe(true)
  })

  test('a response that does not match its schema is a 500, not a leak', async () => {
    const { app } = appWithLog()
    const res = await app.handle(new Request('http://local/leak'))
    expect(res.status).toBe(500)
    expect(await res.text()).not.toContain('argon2id')
  })
})

describe('request bodies', () => {
  const app = new Elysia({ normalize: false })
    .use(httpErrors({ logger: createLogger('silent'), multipartRoutes: [], rawBodyRoutes: ['/raw/:id'] }))
    .post('/raw/:id', ({ body }) => ({ raw: body instanceof Uint8Array, hex: Buffer.from(body as Uint8Array).toString('hex') }))
    .post('/json', ({ body }) => ({ body }))
  // With the content-length a client sends (a Request made in process has none).
  const post = (path: string, body?: string | Uint8Array, type?: string) =>
    app.handle(
      new Request(`http://local${path}`, {
        method: 'POST',
        body,
        headers: { 'content-length': String(new Blob(body === undefined ? [] : [body]).size), ...(type ? { 'content-type': type } : {}) },
      }),
    )

  test('a raw-body route gets the exact bytes, whatever the content type says, and an empty body as no bytes', async () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0xff, 0x22])
    for (const [body, type] of [
      [bytes, undefined],
      [bytes, 'text/plain'],
      [bytes, 'application/json'],
      [bytes, 'multipart/form-data; boundary=x'],
    ] as const) {
      const res = await post('/raw/1', body, type)
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ raw: true, hex: 'efbbbf7bff22' })
    }
    expect(await (await post('/raw/2')).json()).toEqual({ raw: true, hex: '' })
  })

  test('a raw-body route still has the size limit (413)', async () => {
    const res = await post('/raw/1', new Uint8Array(64 * 1024 + 1), 'application/json')
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({ code: 'payload_too_large' })
  })

  test('every other route keeps JSON only: 415 for another type, 400 for broken JSON, the parsed value otherwise', async () => {
    expect((await post('/json', 'x', 'text/plain')).status).toBe(415)
    expect((await post('/json', new Uint8Array([0x7b]))).status).toBe(415)
    expect(await (await post('/json', '{"a":', 'application/json')).json()).toMatchObject({ status: 400, code: 'malformed_json' })
    expect(await (await post('/json', '{"a":1}', 'application/json')).json()).toEqual({ body: { a: 1 } })
  })
})
