import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startShop, type TestShop } from './support/harness'
import { createRegion } from './support/fixtures'

// The public catalog's JSON is made by SQLite (src/modules/catalog/product-json.ts); what an
// admin's write answers is made by JSON.stringify. A client must not tell them apart: same
// keys, same order, same escapes, byte for byte.
let s: TestShop
let admin: { id: string; token: string }
beforeAll(async () => {
  s = await startShop()
  admin = await s.admin()
})
afterAll(() => s.close())

const text = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(s.url + path, {
    method,
    headers: { authorization: `Bearer ${admin.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, text: await res.text() }
}

const awkward = {
  title: 'Quotes " and \\ backslash, é 中 😀 \u2028\u2029 </script> \u00a0',
  description: 'Line one\nline two\twith a tab',
  attributes: {
    b: 1,
    2: 'an integer-like key',
    nested: { list: [1, 2.5, -0.001, null, true, false, 'x'], empty: {}, none: [] },
    float: 0.1 + 0.2,
    big: 2 ** 64,
    tiny: 1e-7,
    huge: 1e21,
    text: '"quoted" \\ ünïcödé 🎉',
    // Control characters are refused in titles and descriptions now, but free attributes (and older rows) may hold them.
    control: 'tab\tbell\u0007 del\u007f \r\n\u0001\u001f\b\f \u0085',
  },
}

describe('catalog JSON made by SQLite', () => {
  test('a product reads back byte for byte as its creation answered, alone and in a page', async () => {
    const regionId = (await createRegion(s.database)).id
    const category = JSON.parse((await text('POST', '/v1/categories', { name: `Odd ${regionId}` })).text)
    const created: string[] = []
    for (const [i, more] of [awkward, { title: 'Plain', attributes: {} }, { title: 'No image', image_url: null, attributes: { k: 'v' } }].entries()) {
      const res = await text('POST', '/v1/products', {
        type: 'generic',
        region_id: regionId,
        sku: `ODD-${i}`,
        price: 1_000_000_000_000 - i,
        stock: i,
        image_url: 'https://img.example.com/a.jpg?x=1&y=%22',
        category_ids: i === 1 ? [] : [category.id],
        ...more,
      })
      expect(res.status, res.text).toBe(201)
      created.push(res.text)
    }
    for (const answer of created) {
      const { id } = JSON.parse(answer)
      expect((await text('GET', `/v1/products/${id}`)).text).toBe(answer)
    }
    const page = await text('GET', `/v1/products?region_id=${regionId}&limit=2`)
    const next = JSON.parse(page.text).next_cursor
    expect(page.text).toBe(`{"data":[${created.slice(0, 2).join(',')}],"next_cursor":${JSON.stringify(next)}}`)
    const rest = await text('GET', `/v1/products?region_id=${regionId}&limit=2&cursor=${next}`)
    expect(rest.text).toBe(`{"data":[${created[2]}],"next_cursor":null}`)
    expect((await text('GET', `/v1/products?region_id=${regionId}&q=backslash`)).text).toBe(`{"data":[${created[0]}],"next_cursor":null}`)
    // A patch answers through JSON.stringify too, and the read agrees after it.
    const { id } = JSON.parse(created[0]!)
    const patched = await text('PATCH', `/v1/products/${id}`, { title: 'Renamed "again" ✓', category_ids: [] })
    expect(patched.status).toBe(200)
    expect((await text('GET', `/v1/products/${id}`)).text).toBe(patched.text)
  })

  test('a stock move and a deleted category show at once, the rest of the text as it was made', async () => {
    const regionId = (await createRegion(s.database)).id
    const [kept, dropped] = await Promise.all([`Kept ${regionId}`, `Dropped ${regionId}`].map(async (name) => JSON.parse((await text('POST', '/v1/categories', { name })).text).id))
    const created = await text('POST', '/v1/products', { type: 'generic', region_id: regionId, sku: 'LIVE-1', title: 'Live "stock"', price: 500, stock: 5, category_ids: [dropped, kept] })
    const { id } = JSON.parse(created.text)
    const moved = await text('POST', `/v1/products/${id}/stock`, { delta: -2, reason: 'damaged' })
    expect(moved.status).toBe(200)
    const afterMove = (await text('GET', `/v1/products/${id}`)).text
    const { updated_at } = JSON.parse(afterMove)
    expect(afterMove).toBe(JSON.stringify({ ...JSON.parse(created.text), stock: 3, updated_at }))
    expect((await text('DELETE', `/v1/categories/${dropped}`)).status).toBe(204)
    const afterDelete = (await text('GET', `/v1/products?region_id=${regionId}`)).text
    expect(afterDelete).toBe(JSON.stringify({ data: [{ ...JSON.parse(afterMove), category_ids: [kept] }], next_cursor: null }))
  })

  test('every filter shape, with and without a cursor: a full last page says no next page, and an empty one is empty', async () => {
    const regionId = (await createRegion(s.database)).id
    const category = JSON.parse((await text('POST', '/v1/categories', { name: `Shapes ${regionId}` })).text)
    for (let i = 0; i < 4; i++) {
      const res = await text('POST', '/v1/products', { type: 'generic', region_id: regionId, sku: `SHAPE-${i}`, title: `Shapeword item ${i}`, price: 100, category_ids: [category.id] })
      expect(res.status).toBe(201)
    }
    const filters = [`region_id=${regionId}`, 'type=generic', `category_id=${category.id}`, 'q=shapeword', 'min_price=100', 'max_price=100', 'in_stock=false']
    // Other tests' generic products may match the type, price and stock filters: the region, category or word pins these four.
    const pinned = 0b1101
    for (let shape = 1; shape < 1 << filters.length; shape++) {
      const query = filters.filter((_, i) => shape & (1 << i)).join('&')
      const full = JSON.parse((await text('GET', `/v1/products?${query}&limit=4`)).text)
      if (shape & pinned) expect(full).toEqual({ data: expect.any(Array), next_cursor: null })
      if (shape & pinned) expect(full.data.map((p: { sku: string }) => p.sku)).toEqual(['SHAPE-0', 'SHAPE-1', 'SHAPE-2', 'SHAPE-3'])
      const first = JSON.parse((await text('GET', `/v1/products?${query}&limit=3`)).text)
      expect(first.data).toHaveLength(3)
      expect(first.next_cursor).toEqual(expect.any(String))
      const second = JSON.parse((await text('GET', `/v1/products?${query}&limit=3&cursor=${first.next_cursor}`)).text)
      if (shape & pinned) expect(second).toEqual({ data: [full.data[3]], next_cursor: null })
    }
    for (const none of ['type=book', 'in_stock=true', 'min_price=101', 'max_price=99']) {
      expect((await text('GET', `/v1/products?region_id=${regionId}&${none}`)).text).toBe('{"data":[],"next_cursor":null}')
    }
    expect((await text('GET', '/v1/products?q=%22%20%2A')).text).toBe('{"data":[],"next_cursor":null}')
  })

  test('a page holds its products in id order, byte for byte as each reads alone', async () => {
    const regionId = (await createRegion(s.database)).id
    // Created out of order, several at a time: only the ids order a page.
    const bodies = Array.from({ length: 30 }, (_, i) => ({ type: 'generic', region_id: regionId, sku: `ORDER-${29 - i}`, title: `Item ${29 - i}`, price: i }))
    const ids: string[] = []
    for (let i = 0; i < bodies.length; i += 6) {
      const answers = await Promise.all(bodies.slice(i, i + 6).map((body) => text('POST', '/v1/products', body)))
      for (const answer of answers) ids.push(JSON.parse(answer.text).id)
    }
    ids.sort()
    const details = await Promise.all(ids.map(async (id) => (await text('GET', `/v1/products/${id}`)).text))
    const first = await text('GET', `/v1/products?region_id=${regionId}&limit=25`)
    const cursor = JSON.parse(first.text).next_cursor
    expect(first.text).toBe(`{"data":[${details.slice(0, 25).join(',')}],"next_cursor":${JSON.stringify(cursor)}}`)
    expect((await text('GET', `/v1/products?region_id=${regionId}&limit=25&cursor=${cursor}`)).text).toBe(`{"data":[${details.slice(25).join(',')}],"next_cursor":null}`)
  })
})
