import { describe, expect, test } from 'bun:test'
import { castOf, useShop, type Fixture, type TestShop } from './support/harness'
import { createProduct } from './support/fixtures'

let s: TestShop, admin: Fixture, customer: Fixture
useShop(async (shop) => ({ s, admin, customer } = await castOf(shop)))

const brazil = { title: 'Brazil', country: 'BR', currency: 'BRL', tax: 1800 }
const createRegion = async (body: Record<string, unknown> = brazil) => {
  const res = await s.request('POST', '/v1/regions', { token: admin.token, body })
  expect(res.status).toBe(201)
  return res.body
}

describe('POST /v1/regions', () => {
  test('creates a region with the exponent of its currency', async () => {
    const region = await createRegion()
    expect(region).toEqual({ id: expect.any(String), title: 'Brazil', country: 'BR', currency: 'BRL', currency_exponent: 2, tax: 1800 })
    const vietnam = await createRegion({ title: 'Vietnam', country: 'vn', currency: 'vnd', tax: 1000 })
    expect(vietnam).toMatchObject({ country: 'VN', currency: 'VND', currency_exponent: 0 })
  })

  test('422 for a country or currency ISO does not assign, a bad tax and unknown fields', async () => {
    const bad = [
      [{ ...brazil, country: 'XX' }, 'country'],
      [{ ...brazil, country: 'UK' }, 'country'],
      [{ ...brazil, country: 'EU' }, 'country'],
      [{ ...brazil, country: 'BRA' }, 'country'],
      [{ ...brazil, currency: 'ZZZ' }, 'currency'],
      [{ ...brazil, currency: 'XAU' }, 'currency'],
      [{ ...brazil, currency: 'R$' }, 'currency'],
      [{ ...brazil, tax: -1 }, 'tax'],
      [{ ...brazil, tax: 12.5 }, 'tax'],
      [{ ...brazil, tax: 10_001 }, 'tax'],
      [{ ...brazil, title: '  ' }, 'title'],
      [{ ...brazil, title: 'Bra\u0000zil' }, 'title'],
      [{ ...brazil, id: 'mine' }, 'id'],
      [{ title: 'Brazil', country: 'BR', currency: 'BRL' }, 'tax'],
    ] as const
    for (const [body, field] of bad) {
      const res = await s.request('POST', '/v1/regions', { token: admin.token, body })
      expect(res.status).toBe(422)
      expect(res.body.code).toBe('validation_failed')
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field)
    }
  })

  test('401 without a token, 403 for a customer', async () => {
    expect((await s.request('POST', '/v1/regions', { body: brazil })).status).toBe(401)
    const res = await s.request('POST', '/v1/regions', { token: customer.token, body: brazil })
    expect(res.status).toBe(403)
    expect(res.body.code).toBe('forbidden')
  })
})

describe('GET /v1/regions', () => {
  test('anyone lists live regions, a page at a time', async () => {
    const created = [await createRegion({ title: 'USA', country: 'US', currency: 'USD', tax: 725 }), await createRegion({ title: 'Singapore', country: 'SG', currency: 'SGD', tax: 900 })]
    const all = await s.request('GET', '/v1/regions?limit=100')
    expect(all.status).toBe(200)
    expect(all.body.next_cursor).toBeNull()
    for (const region of created) expect(all.body.data).toContainEqual(region)

    const seen: string[] = []
    let cursor: string | null = ''
    while (cursor !== null) {
      const page: { status: number; body: { data: { id: string }[]; next_cursor: string | null } } = await s.request('GET', `/v1/regions?limit=1&cursor=${cursor}`)
      expect(page.body.data.length).toBeLessThanOrEqual(1)
      seen.push(...page.body.data.map((r) => r.id))
      cursor = page.body.next_cursor
    }
    expect(seen).toEqual(all.body.data.map((r: { id: string }) => r.id))
  })

  test('GET /v1/regions/{id}; 404 for an unknown id; 422 for a forged cursor; a limit over 100 is capped', async () => {
    const region = await createRegion()
    expect((await s.request('GET', `/v1/regions/${region.id}`)).body).toEqual(region)
    expect((await s.request('GET', '/v1/regions/nope')).status).toBe(404)
    expect((await s.request('GET', '/v1/regions?cursor=garbage')).status).toBe(422)
    expect((await s.request('GET', '/v1/regions?limit=101')).status).toBe(200)
  })
})

describe('PATCH /v1/regions/{id}', () => {
  test('changes title, country and tax; a new currency brings its exponent', async () => {
    const region = await createRegion()
    const res = await s.request('PATCH', `/v1/regions/${region.id}`, { token: admin.token, body: { title: 'Brasil', tax: 1700 } })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ ...region, title: 'Brasil', tax: 1700 })
    const japan = await s.request('PATCH', `/v1/regions/${region.id}`, { token: admin.token, body: { country: 'JP', currency: 'JPY' } })
    expect(japan.body).toMatchObject({ country: 'JP', currency: 'JPY', currency_exponent: 0, tax: 1700 })
  })

  test('409 for a currency change once it has products (even deleted ones: past prices are in it)', async () => {
    const region = await createRegion()
    const product = await createProduct(s.database, region.id, 0)
    const res = await s.request('PATCH', `/v1/regions/${region.id}`, { token: admin.token, body: { currency: 'USD' } })
    expect(res.status).toBe(409)
    expect(res.body.code).toBe('conflict')
    expect((await s.request('DELETE', `/v1/products/${product.id}`, { token: admin.token })).status).toBe(204)
    expect((await s.request('PATCH', `/v1/regions/${region.id}`, { token: admin.token, body: { currency: 'USD' } })).status).toBe(409)
    expect((await s.request('PATCH', `/v1/regions/${region.id}`, { token: admin.token, body: { currency: 'BRL', tax: 0 } })).status).toBe(200)
  })

  test('404 unknown, 422 bad values, 401/403', async () => {
    const region = await createRegion()
    expect((await s.request('PATCH', '/v1/regions/nope', { token: admin.token, body: { tax: 1 } })).status).toBe(404)
    expect((await s.request('PATCH', `/v1/regions/${region.id}`, { token: admin.token, body: { currency: 'ABC' } })).status).toBe(422)
    expect((await s.request('PATCH', `/v1/regions/${region.id}`, { token: admin.token, body: { currency_exponent: 3 } })).status).toBe(422)
    expect((await s.request('PATCH', `/v1/regions/${region.id}`, { body: { tax: 1 } })).status).toBe(401)
    expect((await s.request('PATCH', `/v1/regions/${region.id}`, { token: customer.token, body: { tax: 1 } })).status).toBe(403)
  })
})

describe('DELETE /v1/regions/{id}', () => {
  test('409 conflict while it has products; 204 once they are deleted, then 404', async () => {
    const region = await createRegion()
    const product = await createProduct(s.database, region.id, 5)
    const refused = await s.request('DELETE', `/v1/regions/${region.id}`, { token: admin.token })
    expect(refused.status).toBe(409)
    expect(refused.body.code).toBe('conflict')
    expect((await s.request('GET', `/v1/regions/${region.id}`)).status).toBe(200)

    expect((await s.request('DELETE', `/v1/products/${product.id}`, { token: admin.token })).status).toBe(204)
    expect((await s.request('DELETE', `/v1/regions/${region.id}`, { token: admin.token })).status).toBe(204)
    expect((await s.request('GET', `/v1/regions/${region.id}`)).status).toBe(404)
    expect((await s.request('GET', '/v1/regions?limit=100')).body.data.map((r: { id: string }) => r.id)).not.toContain(region.id)
    expect((await s.request('DELETE', `/v1/regions/${region.id}`, { token: admin.token })).status).toBe(404)
  })

  test('no products can be created in a deleted region', async () => {
    const region = await createRegion()
    await s.request('DELETE', `/v1/regions/${region.id}`, { token: admin.token })
    const res = await s.request('POST', '/v1/products', {
      token: admin.token,
      body: { type: 'generic', region_id: region.id, sku: 'X-1', title: 'Thing', price: 100, attributes: {} },
    })
    expect(res.status).toBe(422)
    expect(res.body.errors).toEqual([{ field: 'region_id', message: 'No such region' }])
  })

  test('401 without a token, 403 for a customer', async () => {
    const region = await createRegion()
    expect((await s.request('DELETE', `/v1/regions/${region.id}`)).status).toBe(401)
    expect((await s.request('DELETE', `/v1/regions/${region.id}`, { token: customer.token })).status).toBe(403)
  })
})
