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
