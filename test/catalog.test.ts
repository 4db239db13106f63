import { beforeAll, describe, expect, test } from 'bun:test'
import { castOf, useShop, type Fixture, type TestShop } from './support/harness'
import { createRegion } from './support/fixtures'
import { sql } from 'drizzle-orm'

let s: TestShop, admin: Fixture, customer: Fixture
useShop(async (shop) => ({ s, admin, customer } = await castOf(shop)))

const kleppmann = { isbn: '978-1-4493-7332-0', author: 'Martin Kleppmann', publisher: "O'Reilly Media" }
const bookBody = (regionId: string, more: Record<string, unknown> = {}) => ({
  type: 'book',
  region_id: regionId,
  title: 'Designing Data-Intensive Applications',
  description: 'The big ideas behind reliable, scalable, and maintainable systems',
  image_url: 'https://covers.example.com/ddia.jpg',
  price: 24990,
  stock: 12,
  attributes: kleppmann,
  ...more,
})
const genericBody = (regionId: string, more: Record<string, unknown> = {}) => ({
  type: 'generic',
  region_id: regionId,
  sku: `MUG-${crypto.randomUUID().slice(0, 8)}`,
  title: 'Enamel mug',
  price: 4500,
  attributes: { colour: 'white', capacity_ml: 350 },
  ...more,
})

const post = async (body: unknown) => s.request('POST', '/v1/products', { token: admin.token, body })
const create = async (body: unknown) => {
  const res = await post(body)
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body
}
const newRegion = async () => (await createRegion(s.database)).id
const category = async (name: string) => (await s.request('POST', '/v1/categories', { token: admin.token, body: { name } })).body

describe('POST /v1/products', () => {
  test('a book: ISBN-10 or -13 stored as ISBN-13, sku defaults to it, initial stock enters through the ledger', async () => {
    const regionId = await newRegion()
    const tech = await category(`Technology ${regionId}`)
    const res = await post(bookBody(regionId, { category_ids: [tech.id] }))
    expect(res.status).toBe(201)
    expect(res.body).toEqual({
      id: expect.any(String),
      type: 'book',
      sku: '9781449373320',
      title: 'Designing Data-Intensive Applications',
      description: 'The big ideas behind reliable, scalable, and maintainable systems',
      image_url: 'https://covers.example.com/ddia.jpg',
      price: 24990,
      currency: 'BRL',
      region_id: regionId,
      stock: 12,
      category_ids: [tech.id],
      attributes: { isbn: '9781449373320', author: 'Martin Kleppmann', publisher: "O'Reilly Media" },
      created_at: expect.any(String),
      updated_at: expect.any(String),
    })
    expect((await s.request('GET', `/v1/products/${res.body.id}`)).body).toEqual(res.body)
    const ledger = await s.request('GET', `/v1/products/${res.body.id}/movements`, { token: admin.token })
    expect(ledger.body.data).toEqual([{ id: expect.any(Number), delta: 12, reason: 'adjustment', ref: 'initial stock', stock_after: 12, actor_id: admin.id, created_at: expect.any(String) }])

    const fromIsbn10 = await create(bookBody(regionId, { attributes: { ...kleppmann, isbn: '0-306-40615-2' }, stock: undefined }))
    expect(fromIsbn10).toMatchObject({ sku: '9780306406157', attributes: { isbn: '9780306406157' }, stock: 0 })
    expect((await s.request('GET', `/v1/products/${fromIsbn10.id}/movements`, { token: admin.token })).body.data).toEqual([])
  })

  test('a generic product keeps its free attributes and needs a sku', async () => {
    const regionId = await newRegion()
    const mug = await create(genericBody(regionId, { image_url: null }))
    expect(mug).toMatchObject({ type: 'generic', attributes: { colour: 'white', capacity_ml: 350 }, description: '', image_url: null, stock: 0, category_ids: [] })
    expect((await create(genericBody(regionId, { attributes: undefined }))).attributes).toEqual({})
    const res = await post(genericBody(regionId, { sku: undefined }))
    expect(res.status).toBe(422)
    expect(res.body.errors).toEqual([{ field: 'sku', message: 'Required for generic products' }])
  })

  test('422 for a bad ISBN, negative price or stock, and every other bad field', async () => {
    const regionId = await newRegion()
    const cases: [Record<string, unknown>, string][] = [
      [bookBody(regionId, { attributes: { ...kleppmann, isbn: '978-1-4493-7332-1' } }), 'attributes.isbn'],
      [bookBody(regionId, { attributes: { ...kleppmann, isbn: '0-306-40615-3' } }), 'attributes.isbn'],
      [bookBody(regionId, { attributes: { ...kleppmann, isbn: '12345' } }), 'attributes.isbn'],
      [bookBody(regionId, { attributes: { isbn: kleppmann.isbn, author: 'Martin Kleppmann' } }), 'attributes.publisher'],
      [bookBody(regionId, { attributes: { ...kleppmann, pages: 616 } }), 'attributes.pages'],
      [bookBody(regionId, { price: -1 }), 'price'],
      [bookBody(regionId, { price: 19.99 }), 'price'],
      [bookBody(regionId, { stock: -1 }), 'stock'],
      [bookBody(regionId, { image_url: 'http://covers.example.com/ddia.jpg' }), 'image_url'],
      [bookBody(regionId, { image_url: 'javascript:alert(1)' }), 'image_url'],
      [bookBody(regionId, { title: '' }), 'title'],
      [bookBody(regionId, { type: 'ebook' }), 'type'],
      [bookBody(regionId, { region_id: 'nope' }), 'region_id'],
      [bookBody(regionId, { category_ids: ['nope'] }), 'category_ids.0'],
      [bookBody(regionId, { sku: 'has space' }), 'sku'],
      [bookBody(regionId, { id: 'chosen' }), 'id'],
      [genericBody(regionId, { attributes: 'red' }), 'attributes'],
      [bookBody(regionId, { attributes: undefined }), 'attributes.isbn'],
    ]
    for (const [body, field] of cases) {
      const res = await post(body)
      expect(res.status).toBe(422)
      expect(res.body.code).toBe('validation_failed')
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field)
    }
    expect((await s.request('GET', `/v1/products?region_id=${regionId}`)).body.data).toEqual([])
  })

  test('409 conflict for a duplicate sku or ISBN in the region; fine in another region or once deleted', async () => {
    const regionId = await newRegion()
    const first = await create(bookBody(regionId))
    const sameIsbn = await post(bookBody(regionId, { sku: 'DDIA-PAPERBACK' }))
    expect(sameIsbn.status).toBe(409)
    expect(sameIsbn.body.code).toBe('conflict')
    expect(sameIsbn.body.detail).toContain('isbn')
    const mug = await create(genericBody(regionId))
    const sameSku = await post(genericBody(regionId, { sku: mug.sku, title: 'Other mug' }))
    expect(sameSku.status).toBe(409)
    expect(sameSku.body.detail).toContain(mug.sku)

    expect((await post(bookBody(await newRegion()))).status).toBe(201)
    expect((await s.request('DELETE', `/v1/products/${first.id}`, { token: admin.token })).status).toBe(204)
    expect((await post(bookBody(regionId))).status).toBe(201)
  })

  test('415 for a body that is not JSON, 400 for malformed JSON, 422 for a NUL in text; any other text is kept as sent', async () => {
    const regionId = await newRegion()
    const form = await s.request('POST', '/v1/products', { token: admin.token, raw: 'type=generic', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect(form.status).toBe(415)
    expect(form.body.code).toBe('unsupported_media_type')
    const broken = await s.request('POST', '/v1/products', { token: admin.token, raw: '{"type":', headers: { 'content-type': 'application/json' } })
    expect(broken.status).toBe(400)
    expect(broken.body.code).toBe('malformed_json')
    // SQLite would hand a text back cut at its first NUL: refused rather than silently shortened.
    const nul = await post(genericBody(regionId, { title: 'Nul\u0000 byte' }))
    expect(nul.status).toBe(422)
    expect(nul.body.errors[0].field).toBe('title')
    const odd = await create(genericBody(regionId, { title: 'Ünïcödé 🙂 título', attributes: { ключ: ['значение\u0000', { nested: null }] } }))
    expect((await s.request('GET', `/v1/products/${odd.id}`)).body).toMatchObject({ title: 'Ünïcödé 🙂 título', attributes: { ключ: ['значение\u0000', { nested: null }] } })
  })

  test('20 racing creations of one ISBN in a region: exactly one 201, the rest 409, one row', async () => {
    const regionId = await newRegion()
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => post(bookBody(regionId, { sku: i % 2 ? undefined : `DDIA-${i}` }))))
    expect(answers.map((a) => a.status).sort()).toEqual([201, ...Array(19).fill(409)])
    expect((await s.request('GET', `/v1/products?region_id=${regionId}`)).body.data).toHaveLength(1)
  })

  test('401 without a token, 403 for a customer', async () => {
    const regionId = await newRegion()
    expect((await s.request('POST', '/v1/products', { body: bookBody(regionId) })).status).toBe(401)
    expect((await s.request('POST', '/v1/products', { token: customer.token, body: bookBody(regionId) })).status).toBe(403)
  })
})

describe('PATCH /v1/products/{id}', () => {
  test('changes what is sent, re-validates attributes, replaces categories, clears the image', async () => {
    const regionId = await newRegion()
    const [a, b] = [await category(`A ${regionId}`), await category(`B ${regionId}`)]
    const book = await create(bookBody(regionId, { category_ids: [a.id] }))
    const res = await s.request('PATCH', `/v1/products/${book.id}`, {
      token: admin.token,
      body: { title: 'DDIA', price: 19990, image_url: null, category_ids: [b.id], attributes: { ...kleppmann, isbn: '1449373321' } },
    })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      ...book,
      title: 'DDIA',
      price: 19990,
      image_url: null,
      category_ids: [b.id],
      attributes: { ...book.attributes, isbn: '9781449373320' },
      updated_at: expect.any(String),
    })
    expect((await s.request('GET', `/v1/products/${book.id}`)).body).toEqual(res.body)
  })

  test('stock, type, region and unknown fields are not patchable (422); bad values 422', async () => {
    const regionId = await newRegion()
    const book = await create(bookBody(regionId))
    for (const body of [{ stock: 100 }, { type: 'generic' }, { region_id: regionId }, { price: -5 }, { attributes: { ...kleppmann, isbn: '9781449373321' } }]) {
      const res = await s.request('PATCH', `/v1/products/${book.id}`, { token: admin.token, body })
      expect(res.status).toBe(422)
    }
    expect((await s.request('GET', `/v1/products/${book.id}`)).body).toEqual(book)
  })

  test('409 when the new sku is taken in the region; 404 unknown or deleted; 401/403', async () => {
    const regionId = await newRegion()
    const [one, two] = [await create(genericBody(regionId)), await create(genericBody(regionId))]
    const clash = await s.request('PATCH', `/v1/products/${two.id}`, { token: admin.token, body: { sku: one.sku } })
    expect(clash.status).toBe(409)
    expect((await s.request('PATCH', `/v1/products/${two.id}`, { token: admin.token, body: { sku: two.sku, title: 'Same sku is fine' } })).status).toBe(200)
    expect((await s.request('PATCH', '/v1/products/nope', { token: admin.token, body: { title: 'x' } })).status).toBe(404)
    await s.request('DELETE', `/v1/products/${one.id}`, { token: admin.token })
    expect((await s.request('PATCH', `/v1/products/${one.id}`, { token: admin.token, body: { title: 'x' } })).status).toBe(404)
    expect((await s.request('PATCH', `/v1/products/${two.id}`, { body: { title: 'x' } })).status).toBe(401)
    expect((await s.request('PATCH', `/v1/products/${two.id}`, { token: customer.token, body: { title: 'x' } })).status).toBe(403)
  })
})

describe('DELETE /v1/products/{id}', () => {
  test('soft delete: 404 afterwards and gone from lists; a second delete is 404; 401/403', async () => {
    const regionId = await newRegion()
    const mug = await create(genericBody(regionId))
    expect((await s.request('DELETE', `/v1/products/${mug.id}`)).status).toBe(401)
    expect((await s.request('DELETE', `/v1/products/${mug.id}`, { token: customer.token })).status).toBe(403)
    expect((await s.request('DELETE', `/v1/products/${mug.id}`, { token: admin.token })).status).toBe(204)
    const gone = await s.request('GET', `/v1/products/${mug.id}`)
    expect(gone.status).toBe(404)
    expect(gone.body.code).toBe('not_found')
    expect((await s.request('GET', `/v1/products?region_id=${regionId}`)).body.data).toEqual([])
    expect((await s.request('DELETE', `/v1/products/${mug.id}`, { token: admin.token })).status).toBe(404)
  })
})

describe('GET /v1/products', () => {
  let regionId: string
  let books: Record<string, { id: string }>
  let mug: { id: string; sku: string }
  let fiction: { id: string }
  beforeAll(async () => {
    regionId = await newRegion()
    fiction = await category(`Fiction ${regionId}`)
    books = {
      ddia: await create(bookBody(regionId)),
      solitude: await create(
        bookBody(regionId, {
          title: 'One Hundred Years of Solitude',
          attributes: { isbn: '9780060883287', author: 'Gabriel García Márquez', publisher: 'Harper Perennial' },
          category_ids: [fiction.id],
        }),
      ),
      effectiveJava: await create(bookBody(regionId, { title: 'Effective Java', attributes: { isbn: '9780134685991', author: 'Joshua Bloch', publisher: 'Addison-Wesley' } })),
    }
    mug = await create(genericBody(regionId, { sku: 'MUG-ENAMEL-350', category_ids: [fiction.id] }))
  })

  const ids = async (query: string) => {
    const res = await s.request('GET', `/v1/products?region_id=${regionId}&${query}`)
    expect(res.status).toBe(200)
    return res.body.data.map((p: { id: string }) => p.id)
  }

  test('filters by region, type and category', async () => {
    expect(await ids('')).toEqual([books.ddia!.id, books.solitude!.id, books.effectiveJava!.id, mug.id])
    expect(await ids('type=generic')).toEqual([mug.id])
    expect(await ids('type=book')).toEqual([books.ddia!.id, books.solitude!.id, books.effectiveJava!.id])
    expect(await ids(`category_id=${fiction.id}`)).toEqual([books.solitude!.id, mug.id])
    expect(await ids(`category_id=${fiction.id}&type=book`)).toEqual([books.solitude!.id])
    expect(await ids('type=ebook')).toEqual([])
  })

  test('q matches title, author (without accents), sku and ISBN (13, hyphenated or 10), by word prefix', async () => {
    expect(await ids('q=solitude')).toEqual([books.solitude!.id])
    expect(await ids('q=marquez')).toEqual([books.solitude!.id])
    expect(await ids('q=Gabriel%20Garc')).toEqual([books.solitude!.id])
    expect(await ids('q=bloch')).toEqual([books.effectiveJava!.id])
    expect(await ids('q=MUG-ENAMEL')).toEqual([mug.id])
    expect(await ids('q=9780134685991')).toEqual([books.effectiveJava!.id])
    expect(await ids('q=978-0-13-468599-1')).toEqual([books.effectiveJava!.id])
    expect(await ids('q=0134685997')).toEqual([books.effectiveJava!.id])
    expect(await ids('q=kleppmann%20java')).toEqual([])
    expect(await ids('q=')).toHaveLength(4)
  })

  test('q is plain text: FTS5 syntax and quotes neither fail nor widen the search', async () => {
    for (const q of ['"', 'AND', 'title:java', 'java OR solitude', '(', '*', 'NEAR(a b)', "O'Reilly", '!!!', 'ja\u0000va', '^', '--']) {
      const res = await s.request('GET', `/v1/products?region_id=${regionId}&q=${encodeURIComponent(q)}`)
      expect(res.status).toBe(200)
      expect(res.body.data.length).toBeLessThan(4)
    }
  })

  test('a changed title or author is found by its new words at once', async () => {
    const patch = (body: unknown) => s.request('PATCH', `/v1/products/${books.ddia!.id}`, { token: admin.token, body })
    await patch({ attributes: { ...kleppmann, author: 'Martin Kleppmann and Chris Riccomini' } })
    expect(await ids('q=riccomini')).toEqual([books.ddia!.id])
    await patch({ title: 'DDIA second edition' })
    expect(await ids('q=edition')).toEqual([books.ddia!.id])
    expect(await ids('q=designing')).toEqual([])
  })

  test('stock moves leave the search index alone (it is rewritten only when title, sku or terms change)', async () => {
    const ftsRowid = async () => (await s.database.db.get<{ rowid: number }>(sql`SELECT rowid FROM products_fts WHERE product_id = ${books.effectiveJava!.id}`)).rowid
    const before = await ftsRowid()
    expect((await s.request('POST', `/v1/products/${books.effectiveJava!.id}/stock`, { token: admin.token, body: { delta: 3, reason: 'found' } })).status).toBe(200)
    expect(await ftsRowid()).toBe(before)
    await s.request('PATCH', `/v1/products/${books.effectiveJava!.id}`, { token: admin.token, body: { title: 'Effective Java, 3rd edition' } })
    expect(await ftsRowid()).not.toBe(before)
    expect(await ids('q=3rd')).toEqual([books.effectiveJava!.id])
  })

  test('cursor pages are stable while products are added between them', async () => {
    const region = await newRegion()
    const before = []
    for (let i = 0; i < 5; i++) before.push((await create(genericBody(region))).id)
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const res: { body: { data: { id: string }[]; next_cursor: string | null } } = await s.request('GET', `/v1/products?region_id=${region}&limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      seen.push(...res.body.data.map((p) => p.id))
      cursor = res.body.next_cursor
      await create(genericBody(region))
    } while (cursor)
    expect(seen.slice(0, 5)).toEqual(before)
    expect(new Set(seen).size).toBe(seen.length)
    expect(seen).toEqual([...seen].sort())
  })

  test('limit defaults to 20 and is at most 100; a forged cursor is 422', async () => {
    const region = await newRegion()
    for (let i = 0; i < 21; i++) await create(genericBody(region))
    const page = await s.request('GET', `/v1/products?region_id=${region}`)
    expect(page.body.data).toHaveLength(20)
    expect(page.body.next_cursor).toEqual(expect.any(String))
    expect((await s.request('GET', `/v1/products?region_id=${region}&limit=100`)).body.data).toHaveLength(21)
    for (const query of ['limit=0', 'limit=abc', 'limit=-5', 'limit=', 'cursor=%7B%7D']) {
      const res = await s.request('GET', `/v1/products?${query}`)
      expect(res.status).toBe(422)
      expect(res.body.code).toBe('validation_failed')
    }
    expect((await s.request('GET', '/v1/products?limit=0')).body.errors).toEqual([{ field: 'limit', message: expect.any(String) }])
    for (let i = 0; i < 100; i++) await create(genericBody(region))
    for (const limit of ['500', '1000000000000', '150.0']) {
      const capped = await s.request('GET', `/v1/products?region_id=${region}&limit=${limit}`)
      expect(capped.status).toBe(200)
      expect(capped.body.data).toHaveLength(100)
      expect(capped.body.next_cursor).toEqual(expect.any(String))
    }
    expect((await s.request('GET', `/v1/products?region_id=${region}&limit=2.5`)).status).toBe(422)
  })

  test('GET /v1/products/{id} of an unknown id is 404', async () => {
    expect((await s.request('GET', '/v1/products/nope')).status).toBe(404)
  })
})

describe('categories', () => {
  test('admin creates, anyone lists; names are unique regardless of case', async () => {
    const name = `Science Fiction ${crypto.randomUUID()}`
    const res = await s.request('POST', '/v1/categories', { token: admin.token, body: { name: `  ${name} ` } })
    expect(res.status).toBe(201)
    expect(res.body).toEqual({ id: expect.any(String), name, created_at: expect.any(String) })
    const dup = await s.request('POST', '/v1/categories', { token: admin.token, body: { name: name.toUpperCase() } })
    expect(dup.status).toBe(409)
    expect(dup.body.code).toBe('conflict')
    const list = await s.request('GET', '/v1/categories?limit=100')
    expect(list.status).toBe(200)
    expect(list.body.data).toContainEqual(res.body)
  })

  test('10 racing creations of one name: one 201, nine 409', async () => {
    const name = `Racing ${crypto.randomUUID()}`
    const answers = await Promise.all(Array.from({ length: 10 }, () => s.request('POST', '/v1/categories', { token: admin.token, body: { name } })))
    expect(answers.map((a) => a.status).sort()).toEqual([201, ...Array(9).fill(409)])
  })

  test('422 for an empty name or extra fields; 401/403', async () => {
    for (const body of [{ name: '' }, { name: '   ' }, { name: 'Ok', slug: 'ok' }, {}]) {
      expect((await s.request('POST', '/v1/categories', { token: admin.token, body })).status).toBe(422)
    }
    expect((await s.request('POST', '/v1/categories', { body: { name: 'Anon' } })).status).toBe(401)
    expect((await s.request('POST', '/v1/categories', { token: customer.token, body: { name: 'Customer' } })).status).toBe(403)
  })
})
