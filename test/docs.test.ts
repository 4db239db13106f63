import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Ajv2020 from 'ajv/dist/2020'
import addFormats from 'ajv-formats'
import { startShop, type TestShop } from './support/harness'

type Json = Record<string, any>

// The configuration users run: production, rate limits on (the harness turns them off).
let s: TestShop
let doc: Json
beforeAll(async () => {
  s = await startShop({ env: { NODE_ENV: 'production', RATE_LIMIT: 'on' } })
  doc = (await s.request('GET', '/swagger/json')).body
})
afterAll(() => s.close())

const operations = () => Object.entries<Json>(doc.paths).flatMap(([path, ops]) => Object.entries<Json>(ops).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, path, op })))

describe('the Swagger page', () => {
  for (const path of ['/swagger', '/swagger/']) {
    test(`${path} is served whole by this server, under a policy that runs only its own files`, async () => {
      const res = await fetch(s.url + path)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toStartWith('text/html')
      const csp = res.headers.get('content-security-policy')!
      expect(csp).toContain("script-src 'self';")
      expect(csp).toContain("style-src 'self';")
      expect(csp).not.toMatch(/unsafe|https?:/)
      const html = await res.text()
      const files = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)
      expect(files.length).toBeGreaterThanOrEqual(3)
      for (const file of files) {
        expect(file).toStartWith('/swagger/assets/')
        const asset = await fetch(s.url + file)
        expect(asset.status).toBe(200)
        expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(0)
      }
      // The document's URL is absolute, so the trailing slash does not change where it is looked for.
      expect(await (await fetch(`${s.url}/swagger/assets/start.js`)).text()).toContain("url: '/swagger/json'")
    })
  }

  test('only the listed files are served', async () => {
    expect((await fetch(`${s.url}/swagger/assets/package.json`)).status).toBe(404)
    expect((await fetch(`${s.url}/swagger/assets/..%2Fpackage.json`)).status).toBe(404)
  })

  test('GET / points to the docs and the document', async () => {
    const res = await s.request('GET', '/')
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ docs: '/swagger', openapi: '/swagger/json' })
  })
})

describe('the OpenAPI document', () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true })
  addFormats(ajv)
  ajv.addFormat('binary', true)

  test('every operation has a summary, a description and a known tag, in the order of the tag list', () => {
    const tags = doc.tags.map((tag: Json) => tag.name)
    expect(tags.slice(0, 3)).toEqual(['auth', 'me', 'users'])
    for (const { name, op } of operations()) {
      expect({ name, summary: op.summary?.length > 0, description: op.description?.length > 0 }).toEqual({ name, summary: true, description: true })
      expect(tags).toContain(op.tags?.[0])
    }
  })

  test('every body has a schema and a realistic example that validates against it', () => {
    const bodies = operations().filter(({ op }) => op.requestBody)
    expect(bodies.length).toBeGreaterThanOrEqual(21)
    for (const { name, op } of bodies) {
      const content = Object.entries<Json>(op.requestBody.content)
      expect({ name, types: content.length }).not.toEqual({ name, types: 0 })
      for (const [type, media] of content) {
        expect({ name, type, schema: typeof media.schema }).toEqual({ name, type, schema: 'object' })
        if (type === 'multipart/form-data') {
          // A file upload: Swagger shows a file picker for each binary field; there is no example to give.
          expect(Object.values<Json>(media.schema.properties).every((p) => p.format === 'binary')).toBe(true)
          continue
        }
        expect({ name, type, example: media.example !== undefined }).toEqual({ name, type, example: true })
        const validate = ajv.compile(media.schema)
        expect({ name, type, errors: validate(media.example) ? null : validate.errors }).toEqual({ name, type, errors: null })
      }
    }
  })

  test('every error is problem+json with an integer status and errors of { field, message }', () => {
    const problem = doc.components.schemas.Problem
    expect(problem.properties.status.type).toBe('integer')
    expect(problem.properties.errors.items.required).toEqual(['field', 'message'])
    for (const { name, op } of operations()) {
      for (const [status, answer] of Object.entries<Json>(op.responses)) {
        if (Number(status) < 400) continue
        // /ready answers 503 with its checks, the same body as its 200: a probe's report, not an error.
        if (name === 'GET /ready') continue
        const types = Object.keys(answer.content ?? {})
        expect({ name, status, types }).toEqual({ name, status, types: ['application/problem+json'] })
        const schema = answer.content['application/problem+json'].schema
        const resolved = schema.$ref ? problem : schema
        expect({ name, status, integer: resolved.properties.status.type }).toEqual({ name, status, integer: 'integer' })
        if (resolved.properties.errors) expect(resolved.properties.errors.type).toBe('array')
      }
    }
  })

  test("Swagger's Authorize signs in through the OAuth2 password flow at the token endpoint, for every secured operation", () => {
    expect(doc.components.securitySchemes.password.flows.password.tokenUrl).toBe('/v1/auth/token')
    expect(doc.paths['/v1/auth/token'].post.requestBody.content['application/x-www-form-urlencoded'].example.grant_type).toBe('password')
    for (const { name, op } of operations()) if (op.security) expect({ name, security: op.security }).toEqual({ name, security: expect.arrayContaining([{ password: [] }]) })
  })

  test('streams, images and the webhook event have their media types and schemas', () => {
    for (const { name, path, op } of operations()) {
      if (path.endsWith('/events')) expect({ name, types: Object.keys(op.responses['200'].content) }).toEqual({ name, types: ['text/event-stream'] })
    }
    expect(Object.keys(doc.paths['/v1/photos/{key}'].get.responses['200'].content)).toEqual(['image/webp'])
    const event = doc.paths['/v1/payments/webhook'].post.requestBody.content['application/json']
    expect(event.schema.required).toContain('type')
    expect(event.example.type).toBe('charge.paid')
  })

  test('every answer before the handler is declared by shape: 401 where a token is needed, 415 and 422 where a body is read, 429 where limited', () => {
    for (const { name, op } of operations()) {
      const statuses = Object.keys(op.responses)
      if (op.security) expect({ name, has401: statuses.includes('401') }).toEqual({ name, has401: true })
      if (op.requestBody && name !== 'POST /v1/payments/webhook') expect({ name, body: ['415', '422'].every((c) => statuses.includes(c)) }).toEqual({ name, body: true })
      if (!['GET /health', 'GET /ready', 'GET /metrics', 'POST /v1/payments/webhook'].includes(name)) expect({ name, has429: statuses.includes('429') }).toEqual({ name, has429: true })
    }
  })
})
