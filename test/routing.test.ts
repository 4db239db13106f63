import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startShop, type TestShop } from './support/harness'
import { pathOf, routeIndex } from '../src/lib/route-index'

let s: TestShop
beforeAll(async () => {
  s = await startShop()
})
afterAll(() => s.close())

test('a path that exists with other methods answers 405 method_not_allowed with Allow', async () => {
  const cases: [string, string, string][] = [
    ['PUT', '/v1/regions', 'GET, HEAD, POST'],
    ['PUT', '/v1/regions/', 'GET, HEAD, POST'],
    ['POST', `/v1/regions/${crypto.randomUUID()}`, 'DELETE, GET, HEAD, PATCH'],
    ['GET', '/v1/auth/login', 'POST'],
    ['DELETE', '/health', 'GET, HEAD'],
  ]
  for (const [method, path, allow] of cases) {
    const res = await s.request(method, path)
    expect([method, path, res.status, res.headers.get('allow')]).toEqual([method, path, 405, allow])
    expect(res.headers.get('content-type')).toContain('application/problem+json')
    expect(res.body).toMatchObject({ status: 405, code: 'method_not_allowed', request_id: res.headers.get('x-request-id') })
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
  }
})

test('an unknown path still answers 404 not_found, and so does a missing resource on a real route', async () => {
  for (const path of ['/v1/nothing', '/v1/regions/x/y', '/v2/regions']) {
    const res = await s.request('PUT', path)
    expect([path, res.status, res.body.code, res.headers.get('allow')]).toEqual([path, 404, 'not_found', null])
  }
  expect((await s.request('GET', `/v1/regions/${crypto.randomUUID()}`)).status).toBe(404)
})

test('the route index names templates like the router and reads paths off URLs', () => {
  const index = routeIndex(() => [
    { method: 'GET', path: '/v1/orders' },
    { method: 'GET', path: '/v1/orders/:id' },
    { method: 'POST', path: '/v1/orders/:id/payments' },
    { method: 'GET', path: '/v1/orders/:id/payments' },
  ])
  expect(index.templateOf('GET', '/v1/orders/42')).toBe('/v1/orders/:id')
  expect(index.templateOf('HEAD', '/v1/orders/')).toBe('/v1/orders')
  expect(index.templateOf('POST', '/v1/orders/42')).toBeUndefined()
  expect(index.methodsAt('/v1/orders/42/payments')).toEqual(['GET', 'HEAD', 'POST'])
  expect(index.methodsAt('/v1/orders/42/refunds')).toEqual([])
  expect(pathOf('http://shop.test:3000/v1/orders/42?limit=5')).toBe('/v1/orders/42')
  expect(pathOf('https://shop.test')).toBe('/')
})
