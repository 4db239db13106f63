import { afterAll, beforeAll, expect, test } from 'bun:test'
import { Type as T } from '@sinclair/typebox'
import { startShop, type TestShop } from './support/harness'
import { createRegion } from './support/fixtures'
import { defaultProductTypes, type ProductType } from '../src/modules/catalog/types'

// A type the shop did not ship with, registered from outside: nothing else changes.
const apparel: ProductType = {
  attributes: T.Object({ size: T.Union(['XS', 'S', 'M', 'L', 'XL'].map((size) => T.Literal(size))), colour: T.String({ minLength: 1 }) }, { additionalProperties: false }),
  normalize: (attributes) => ({ ...attributes, colour: (attributes.colour as string).toLowerCase() }),
  searchTerms: (attributes) => [attributes.colour as string],
}

let s: TestShop
let admin: { id: string; token: string }
beforeAll(async () => {
  s = await startShop({ deps: { productTypes: defaultProductTypes().register('apparel', apparel) } })
  admin = await s.admin()
})
afterAll(() => s.close())

test('a registered type is created, validated, searched, stocked and received like the built-in ones', async () => {
  const region = await createRegion(s.database)
  const body = { type: 'apparel', region_id: region.id, sku: 'TEE-M-NAVY', title: 'Organic cotton tee', price: 7990, stock: 4, attributes: { size: 'M', colour: 'Navy' } }
  const created = await s.request('POST', '/v1/products', { token: admin.token, body })
  expect(created.status).toBe(201)
  expect(created.body).toMatchObject({ type: 'apparel', attributes: { size: 'M', colour: 'navy' }, stock: 4, currency: 'BRL' })

  const badSize = await s.request('POST', '/v1/products', { token: admin.token, body: { ...body, sku: 'TEE-XXL', attributes: { size: 'XXL', colour: 'navy' } } })
  expect(badSize.status).toBe(422)
  expect(badSize.body.errors[0].field).toBe('attributes.size')
  const noSku = await s.request('POST', '/v1/products', { token: admin.token, body: { ...body, sku: undefined } })
  expect(noSku.status).toBe(422)

  const found = await s.request('GET', `/v1/products?type=apparel&q=navy`)
  expect(found.body.data.map((p: { id: string }) => p.id)).toEqual([created.body.id])

  const id = created.body.id
  expect((await s.request('POST', `/v1/products/${id}/stock`, { token: admin.token, body: { delta: -1, reason: 'sample' } })).body).toEqual({ stock: 3 })
  const purchase = await s.request('POST', '/v1/purchases', { token: admin.token, body: { supplier: 'Tees Ltd', items: [{ product_id: id, quantity: 10, unit_cost: 2500 }] } })
  expect(purchase.status).toBe(201)
  expect((await s.request('GET', `/v1/products/${id}`)).body.stock).toBe(13)
})

test('the built-in types stay as they were', async () => {
  const region = await createRegion(s.database)
  const book = { type: 'book', region_id: region.id, title: 'Clean Code', price: 3999, attributes: { isbn: '9780132350884', author: 'Robert C. Martin', publisher: 'Prentice Hall' } }
  expect((await s.request('POST', '/v1/products', { token: admin.token, body: book })).body.sku).toBe('9780132350884')
  const unknown = await s.request('POST', '/v1/products', { token: admin.token, body: { ...book, type: 'ebook' } })
  expect(unknown.status).toBe(422)
  expect(unknown.body.errors[0].message).toContain('book, generic, apparel')
})
