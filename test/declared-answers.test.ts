import { expect, test } from 'bun:test'
import { AnswerRecord } from './support/declared-answers'

const doc = {
  paths: {
    '/v1/orders/{id}': { get: { responses: { 200: {}, 404: {} } } },
    '/v1/orders/{id}/payments': { get: { responses: { 200: {} } }, post: { responses: { 201: {} } } },
    '/v1/products/{id}': { get: { responses: { 200: {} } } },
  },
}

test('an answer met on a documented operation must be declared there; unknown routes and methods declare nothing', () => {
  const record = new AnswerRecord()
  record.add('GET', '/v1/orders/abc', 200)
  record.add('GET', '/v1/orders/abc?x=1', 404)
  record.add('HEAD', '/v1/orders/abc', 200)
  record.add('GET', '/v1/orders/abc/payments', 200)
  record.add('POST', '/v1/orders/abc/payments', 402)
  record.add('GET', '/v1/products/p1/', 422)
  record.add('GET', '/v1/nowhere', 404)
  record.add('DELETE', '/v1/products/p1', 405)
  expect(record.undeclared(doc)).toEqual(['GET /v1/products/{id} 422', 'POST /v1/orders/{id}/payments 402'])
})
