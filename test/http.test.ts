import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startShop, type TestShop } from './support/harness'

let s: TestShop
beforeAll(async () => {
  s = await startShop({ env: { ADMIN_EMAIL: 'boss@example.com', ADMIN_PASSWORD: 'boss password' } })
})
afterAll(() => s.close())

describe('problem+json for every failure', () => {
  test('malformed JSON answers 400 malformed_json', async () => {
    const res = await s.request('POST', '/v1/auth/login', { raw: '{"email":', headers: { 'content-type': 'application/json' } })
    expect(res.status).toBe(400)
    expect(res.body.code).toBe('malformed_json')
  })

  test('JSON nested deeper than 32 levels answers 400 before it is parsed (a 30,000-deep array held a core for seconds, then a 500)', async () => {
    const u = await s.createUser()
    const patch = (raw: string) => s.request('PATCH', '/v1/me', { token: u.token, raw, headers: { 'content-type': 'application/json' } })
    for (const raw of [`${'['.repeat(30_000)}${']'.repeat(30_000)}`, `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`, `{"name":${'['.repeat(33)}${']'.repeat(33)}}`]) {
      const res = await patch(raw)
      expect(res.status).toBe(400)
      expect(res.body).toMatchObject({ code: 'malformed_json', detail: expect.stringContaining('32 levels') })
    }
    // Brackets inside strings are text; 32 levels are still read (and validated: 422).
    expect((await patch(JSON.stringify({ name: '[[[{'.repeat(20) }))).status).toBe(200)
    expect((await patch(`{"name":${'['.repeat(31)}${']'.repeat(31)}}`)).status).toBe(422)
  })

  test('a form body on a JSON route answers 415', async () => {
    const res = await s.request('POST', '/v1/auth/login', { raw: 'email=a&password=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect(res.status).toBe(415)
    expect(res.body.code).toBe('unsupported_media_type')
    const multipart = new FormData()
    multipart.set('email', 'a@example.com')
    multipart.set('password', 'password123')
    expect((await s.request('POST', '/v1/auth/login', { raw: multipart })).status).toBe(415)
    expect((await s.request('POST', '/v1/auth/login', { raw: '{}', headers: { 'content-type': 'text/plain' } })).status).toBe(415)
  })

  test('numbers must be JSON numbers: a numeric string for money or tax answers 422', async () => {
    const admin = await s.admin()
    const res = await s.request('POST', '/v1/regions', { token: admin.token, body: { title: 'Brazil', country: 'BR', currency: 'BRL', tax: '1000' } })
    expect(res.status).toBe(422)
    expect(res.body.errors[0].field).toBe('tax')
    const ok = await s.request('POST', '/v1/regions', { token: admin.token, body: { title: 'Brazil', country: 'BR', currency: 'BRL', tax: 1000 } })
    expect(ok.status).toBe(201)
    const product = { type: 'generic', sku: 'S-1', title: 'Lamp', price: '1999', region_id: ok.body.id }
    expect((await s.request('POST', '/v1/products', { token: admin.token, body: product })).status).toBe(422)
    expect((await s.request('POST', '/v1/products', { token: admin.token, body: { ...product, price: 19.99 } })).status).toBe(422)
    expect((await s.request('POST', '/v1/products', { token: admin.token, body: { ...product, price: 1999 } })).status).toBe(201)
  })

  test('a JSON body over the cap answers 413', async () => {
    const res = await s.request('POST', '/v1/auth/login', { body: { email: 'a@example.com', password: 'x'.repeat(100_000) } })
    expect(res.status).toBe(413)
    expect(res.body.code).toBe('payload_too_large')
  })

  test('any body over the server cap answers 413 problem+json, declared or streamed', async () => {
    const declared = await s.request('POST', '/v1/auth/login', { raw: new Uint8Array(9 * 1024 * 1024), headers: { 'content-type': 'application/json' } })
    expect(declared.status).toBe(413)
    expect(declared.body.code).toBe('payload_too_large')
    const chunk = new TextEncoder().encode(' '.repeat(16 * 1024))
    let sent = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 64) controller.enqueue(chunk)
        else controller.close()
      },
    })
    const streamed = await fetch(s.url + '/v1/auth/login', { method: 'POST', body: stream, headers: { 'content-type': 'application/json' } })
    expect(streamed.status).toBe(413)
    expect(((await streamed.json()) as { code: string }).code).toBe('payload_too_large')
  })

  test('an unknown route answers 404 not_found with a request id', async () => {
    const res = await s.request('GET', '/v1/nope')
    expect(res.status).toBe(404)
    expect(res.body).toMatchObject({ status: 404, code: 'not_found', title: 'Not Found' })
    expect(res.body.request_id).toBe(res.headers.get('x-request-id'))
  })
})

describe('operations', () => {
  test('health and ready', async () => {
    expect((await s.request('GET', '/health')).body).toEqual({ status: 'ok' })
    const ready = await s.request('GET', '/ready')
    expect(ready.status).toBe(200)
    expect(ready.body.checks.database).toBe('ok')
  })

  test('OpenAPI document lists every route with tags and a Swagger UI is served', async () => {
    const doc = (await s.request('GET', '/swagger/json')).body
    for (const path of [
      '/v1/auth/register',
      '/v1/auth/login',
      '/v1/auth/refresh',
      '/v1/auth/logout',
      '/v1/me',
      '/v1/me/photo',
      '/v1/me/password',
      '/v1/users',
      '/v1/users/{id}',
      '/health',
      '/ready',
    ]) {
      expect(doc.paths[path]).toBeDefined()
    }
    expect(doc.paths['/v1/auth/register'].post.requestBody).toBeDefined()
    expect(doc.paths['/v1/auth/register'].post.responses['409']).toBeDefined()
    expect(doc.paths['/v1/me'].get.tags).toEqual(['me'])
    const ui = await fetch(s.url + '/swagger')
    expect(ui.status).toBe(200)
    const html = await ui.text()
    // Every file of the page comes from this server: no CDN, nothing from the internet.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//)
    expect(html).toContain('src="/swagger/assets/swagger-ui-bundle.js"')
  })

  test('the configured admin exists with both roles', async () => {
    const res = await s.request('POST', '/v1/auth/login', { body: { email: 'boss@example.com', password: 'boss password' } })
    expect(res.status).toBe(200)
    expect(res.body.user.roles.sort()).toEqual(['admin', 'customer'])
  })
})
