import { describe, expect, test } from 'bun:test'
import sharp from 'sharp'
import { startShop, castOf, useShop, type Fixture, type TestShop } from './support/harness'
import { createProduct, createRegion } from './support/fixtures'
import { jpegWithExif, pixelBombPng, pngBytes } from './support/images'

let s: TestShop, admin: Fixture, customer: Fixture, regionId: string
useShop(async (shop) => ({ s, admin, customer, regionId } = await castOf(shop, { region: true })))

const imageForm = (bytes: Uint8Array | string, type = 'image/png', field = 'image') => {
  const form = new FormData()
  form.set(field, new Blob([bytes], { type }), 'cover.png')
  return form
}
const category = async (name: string) => {
  const res = await s.request('POST', '/v1/categories', { token: admin.token, body: { name } })
  expect(res.status).toBe(201)
  return res.body.id as string
}
const unique = (name: string) => `${name} ${crypto.randomUUID().slice(0, 6)}`

describe('PATCH and DELETE /v1/categories/{id}', () => {
  test('renames (409 for a name taken, case-insensitively; 404 unknown; 422 blank); admin only', async () => {
    const id = await category(unique('Livros'))
    const other = unique('Canecas')
    await category(other)
    const renamed = await s.request('PATCH', `/v1/categories/${id}`, { token: admin.token, body: { name: '  Books  ' } })
    expect(renamed.status).toBe(200)
    expect(renamed.body).toEqual({ id, name: 'Books', created_at: expect.any(String) })
    expect((await s.request('GET', '/v1/categories?limit=100')).body.data).toContainEqual(renamed.body)
    const taken = await s.request('PATCH', `/v1/categories/${id}`, { token: admin.token, body: { name: other.toUpperCase() } })
    expect(taken.status).toBe(409)
    expect(taken.body.code).toBe('conflict')
    expect((await s.request('PATCH', '/v1/categories/nope', { token: admin.token, body: { name: 'X' } })).status).toBe(404)
    expect((await s.request('PATCH', `/v1/categories/${id}`, { token: admin.token, body: { name: ' ' } })).status).toBe(422)
    expect((await s.request('PATCH', `/v1/categories/${id}`, { token: admin.token, body: { name: 'X', extra: 1 } })).status).toBe(422)
    expect((await s.request('PATCH', `/v1/categories/${id}`, { token: customer.token, body: { name: 'X' } })).status).toBe(403)
    expect((await s.request('PATCH', `/v1/categories/${id}`, { body: { name: 'X' } })).status).toBe(401)
  })

  test('deletes: 204, products lose it and keep their other categories; a second delete is 404', async () => {
    const [gone, kept] = [await category(unique('Promo')), await category(unique('Kitchen'))]
    const product = await createProduct(s.database, regionId, 1)
    expect((await s.request('PATCH', `/v1/products/${product.id}`, { token: admin.token, body: { category_ids: [gone, kept] } })).status).toBe(200)
    expect((await s.request('DELETE', `/v1/categories/${gone}`, { token: customer.token })).status).toBe(403)
    expect((await s.request('DELETE', `/v1/categories/${gone}`, { token: admin.token })).status).toBe(204)
    expect((await s.request('GET', `/v1/products/${product.id}`)).body.category_ids).toEqual([kept])
    expect((await s.request('GET', `/v1/products?category_id=${gone}`)).body.data).toEqual([])
    expect((await s.request('GET', '/v1/categories?limit=100')).body.data.map((c: { id: string }) => c.id)).not.toContain(gone)
    expect((await s.request('DELETE', `/v1/categories/${gone}`, { token: admin.token })).status).toBe(404)
  })
})

describe('PUT and DELETE /v1/products/{id}/image', () => {
  test('stores a re-encoded WebP without metadata; image_url serves it publicly; a new upload replaces the file', async () => {
    const product = await createProduct(s.database, regionId, 1)
    const put = await s.request('PUT', `/v1/products/${product.id}/image`, { token: admin.token, raw: imageForm(await jpegWithExif(), 'image/jpeg') })
    expect(put.status).toBe(200)
    expect(put.body.id).toBe(product.id)
    expect(put.body.image_url).toMatch(/^\/v1\/images\/[0-9a-f-]{36}\.webp$/)
    expect((await s.request('GET', `/v1/products/${product.id}`)).body.image_url).toBe(put.body.image_url)
    const image = await fetch(s.url + put.body.image_url)
    expect(image.status).toBe(200)
    expect(image.headers.get('content-type')).toBe('image/webp')
    expect(image.headers.get('cache-control')).toContain('immutable')
    const bytes = new Uint8Array(await image.arrayBuffer())
    const meta = await sharp(bytes).metadata()
    expect(meta).toMatchObject({ format: 'webp', width: 800, height: 600 })
    expect(meta.exif).toBeUndefined()
    const again = await s.request('PUT', `/v1/products/${product.id}/image`, { token: admin.token, raw: imageForm(await pngBytes()) })
    expect(again.body.image_url).not.toBe(put.body.image_url)
    expect((await fetch(s.url + put.body.image_url)).status).toBe(404)
  })

  test('the profile photo rules: 415 for what is not a JPEG, PNG or WebP (SVG, text, a pixel bomb), 413 over 5 MB, 422 without the field', async () => {
    const product = await createProduct(s.database, regionId, 1)
    const put = (form: FormData) => s.request('PUT', `/v1/products/${product.id}/image`, { token: admin.token, raw: form })
    expect((await put(imageForm('not an image'))).status).toBe(415)
    expect((await put(imageForm('<svg xmlns="http://www.w3.org/2000/svg"/>', 'image/svg+xml'))).status).toBe(415)
    expect((await put(imageForm(pixelBombPng()))).status).toBe(415)
    expect((await put(imageForm(new Uint8Array(5 * 1024 * 1024 + 1)))).status).toBe(413)
    expect((await put(imageForm(await pngBytes(), 'image/png', 'photo'))).status).toBe(422)
    const json = await s.request('PUT', `/v1/products/${product.id}/image`, { token: admin.token, body: { image: 'x' } })
    expect(json.status).toBe(415)
    expect((await s.request('GET', `/v1/products/${product.id}`)).body.image_url).toBeNull()
  })

  test('admin only (401, 403); 404 for an unknown or deleted product', async () => {
    const product = await createProduct(s.database, regionId, 1)
    const form = imageForm(await pngBytes())
    expect((await s.request('PUT', `/v1/products/${product.id}/image`, { raw: form })).status).toBe(401)
    expect((await s.request('PUT', `/v1/products/${product.id}/image`, { token: customer.token, raw: imageForm(await pngBytes()) })).status).toBe(403)
    expect((await s.request('PUT', '/v1/products/nope/image', { token: admin.token, raw: imageForm(await pngBytes()) })).status).toBe(404)
    await s.request('DELETE', `/v1/products/${product.id}`, { token: admin.token })
    expect((await s.request('PUT', `/v1/products/${product.id}/image`, { token: admin.token, raw: imageForm(await pngBytes()) })).status).toBe(404)
    expect((await s.request('DELETE', `/v1/products/${product.id}/image`, { token: admin.token })).status).toBe(404)
  })

  test('DELETE answers 200 the product with image_url null and removes the file; PATCH image_url replaces a stored image', async () => {
    const product = await createProduct(s.database, regionId, 1)
    const put = await s.request('PUT', `/v1/products/${product.id}/image`, { token: admin.token, raw: imageForm(await pngBytes()) })
    const removed = await s.request('DELETE', `/v1/products/${product.id}/image`, { token: admin.token })
    expect(removed.status).toBe(200)
    expect(removed.body).toMatchObject({ id: product.id, image_url: null })
    expect((await fetch(s.url + put.body.image_url)).status).toBe(404)
    const stored = await s.request('PUT', `/v1/products/${product.id}/image`, { token: admin.token, raw: imageForm(await pngBytes()) })
    const linked = await s.request('PATCH', `/v1/products/${product.id}`, { token: admin.token, body: { image_url: 'https://cdn.example.com/a.jpg' } })
    expect(linked.body.image_url).toBe('https://cdn.example.com/a.jpg')
    expect((await fetch(s.url + stored.body.image_url)).status).toBe(404)
  })

  test('with PUBLIC_URL set, image_url is an absolute URL under it, in lists too', async () => {
    const shop = await startShop({ env: { PUBLIC_URL: 'https://api.shop.example' } })
    try {
      const boss = await shop.admin()
      const product = await createProduct(shop.database, (await createRegion(shop.database)).id, 1)
      const put = await shop.request('PUT', `/v1/products/${product.id}/image`, { token: boss.token, raw: imageForm(await pngBytes()) })
      expect(put.body.image_url).toMatch(/^https:\/\/api\.shop\.example\/v1\/images\/[0-9a-f-]{36}\.webp$/)
      expect((await shop.request('GET', '/v1/products')).body.data[0].image_url).toBe(put.body.image_url)
      expect((await fetch(shop.url + new URL(put.body.image_url).pathname)).status).toBe(200)
    } finally {
      await shop.close()
    }
  })
})

describe('GET /v1/products filters', () => {
  test('min_price and max_price (inclusive, minor units) and in_stock combine with the others', async () => {
    const region = (await createRegion(s.database)).id
    const cheap = await createProduct(s.database, region, 3, { price: 500 })
    const mid = await createProduct(s.database, region, 0, { price: 1500 })
    const dear = await createProduct(s.database, region, 2, { price: 9900 })
    const ids = async (query: string) => (await s.request('GET', `/v1/products?region_id=${region}&${query}`)).body.data.map((p: { id: string }) => p.id)
    expect(await ids('min_price=1500')).toEqual([mid.id, dear.id])
    expect(await ids('max_price=1500')).toEqual([cheap.id, mid.id])
    expect(await ids('min_price=501&max_price=9899')).toEqual([mid.id])
    expect(await ids('in_stock=true')).toEqual([cheap.id, dear.id])
    expect(await ids('in_stock=false')).toEqual([mid.id])
    expect(await ids('in_stock=true&max_price=1000')).toEqual([cheap.id])
    for (const bad of ['min_price=-1', 'max_price=abc', 'min_price=1.5', 'in_stock=yes']) {
      const res = await s.request('GET', `/v1/products?${bad}`)
      expect(res.status).toBe(422)
      expect(res.body.errors[0].field).toBe(bad.split('=')[0])
    }
  })
})

describe('lists refuse a query parameter they do not know', () => {
  test('422 validation_failed naming it, on every list', async () => {
    const admin = await s.admin()
    for (const path of ['/v1/products', '/v1/categories', '/v1/regions', '/v1/flash-sales', '/v1/orders', '/v1/users', '/v1/purchases']) {
      const res = await s.request('GET', `${path}?stauts=paid`, { token: admin.token })
      expect(res.status).toBe(422)
      expect(res.body).toMatchObject({ code: 'validation_failed', errors: [expect.objectContaining({ field: 'stauts' })] })
      expect((await s.request('GET', `${path}?limit=5`, { token: admin.token })).status).toBe(200)
    }
  })
})
