import { describe, expect, test } from 'bun:test'
import { castOf, useShop, type Fixture, type TestShop } from './support/harness'
import { createProduct } from './support/fixtures'
import { moveStock } from '../src/modules/catalog'

let s: TestShop, admin: Fixture, customer: Fixture, regionId: string
useShop(async (shop) => ({ s, admin, customer, regionId } = await castOf(shop, { region: true })))

interface Movement {
  id: number
  delta: number
  reason: string
  ref: string | null
  supplier?: string
  stock_after: number
  actor_id: string | null
  created_at: string
}

const stockOf = async (id: string) => (await s.request('GET', `/v1/products/${id}`)).body.stock as number
const adjust = (id: string, body: unknown, token = admin.token) => s.request('POST', `/v1/products/${id}/stock`, { token, body })

async function ledger(productId: string): Promise<Movement[]> {
  const rows: Movement[] = []
  let cursor: string | null = null
  do {
    const page: { status: number; body: { data: Movement[]; next_cursor: string | null } } = await s.request(
      'GET',
      `/v1/products/${productId}/movements?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
      { token: admin.token },
    )
    expect(page.status).toBe(200)
    rows.push(...page.body.data)
    cursor = page.body.next_cursor
  } while (cursor)
  return rows
}

/** The ledger explains the stock: the rows sum to it, each row follows from the one before, none is below 0. */
async function expectLedgerExplainsStock(productId: string) {
  const rows = await ledger(productId)
  let running = 0
  for (const row of rows) {
    running += row.delta
    expect(row.stock_after).toBe(running)
    expect(row.stock_after).toBeGreaterThanOrEqual(0)
  }
  expect(await stockOf(productId)).toBe(running)
  return rows
}

describe('POST /v1/products/{id}/stock', () => {
  test('delta and set move the stock, each with one ledger row carrying the reason and the admin', async () => {
    const product = await createProduct(s.database, regionId, 10)
    expect((await adjust(product.id, { delta: 5, reason: 'found in the back room' })).body).toEqual({ stock: 15 })
    expect((await adjust(product.id, { delta: -3, reason: 'damaged' })).body).toEqual({ stock: 12 })
    expect((await adjust(product.id, { set: 7, reason: 'stocktake' })).body).toEqual({ stock: 7 })
    expect((await adjust(product.id, { set: 7, reason: 'recount' })).body).toEqual({ stock: 7 })
    const rows = await expectLedgerExplainsStock(product.id)
    expect(rows.slice(1)).toEqual([
      { id: expect.any(Number), delta: 5, reason: 'adjustment', ref: 'found in the back room', stock_after: 15, actor_id: admin.id, created_at: expect.any(String) },
      { id: expect.any(Number), delta: -3, reason: 'adjustment', ref: 'damaged', stock_after: 12, actor_id: admin.id, created_at: expect.any(String) },
      { id: expect.any(Number), delta: -5, reason: 'adjustment', ref: 'stocktake', stock_after: 7, actor_id: admin.id, created_at: expect.any(String) },
    ])
  })

  test('409 insufficient_stock below 0, and nothing is written', async () => {
    const product = await createProduct(s.database, regionId, 2)
    const res = await adjust(product.id, { delta: -3, reason: 'shrinkage' })
    expect(res.status).toBe(409)
    expect(res.body).toMatchObject({ code: 'insufficient_stock', available: 2 })
    expect(await stockOf(product.id)).toBe(2)
    expect(await ledger(product.id)).toHaveLength(1)
  })

  test('422 for both or neither of delta and set, a zero delta, a negative set, no reason, a float, other fields', async () => {
    const product = await createProduct(s.database, regionId, 2)
    for (const body of [
      { delta: 1, set: 1, reason: 'x' },
      { reason: 'x' },
      { delta: 0, reason: 'x' },
      { set: -1, reason: 'x' },
      { delta: 1 },
      { delta: 1, reason: ' ' },
      { delta: 1, reason: 'cut\u0000here' },
      { delta: 1.5, reason: 'x' },
      { delta: 1, reason: 'x', stock: 5 },
    ]) {
      const res = await adjust(product.id, body)
      expect(res.status).toBe(422)
      expect(res.body.code).toBe('validation_failed')
    }
    expect(await ledger(product.id)).toHaveLength(1)
  })

  test('404 for an unknown or deleted product; 401 without a token; 403 for a customer', async () => {
    const product = await createProduct(s.database, regionId, 2)
    expect((await adjust('nope', { delta: 1, reason: 'x' })).status).toBe(404)
    expect((await s.request('POST', `/v1/products/${product.id}/stock`, { body: { delta: 1, reason: 'x' } })).status).toBe(401)
    expect((await adjust(product.id, { delta: 1, reason: 'x' }, customer.token)).status).toBe(403)
    await s.request('DELETE', `/v1/products/${product.id}`, { token: admin.token })
    expect((await adjust(product.id, { delta: 1, reason: 'x' })).status).toBe(404)
  })
})

describe('GET /v1/products/{id}/movements', () => {
  test('admin only: 401 without a token, 403 for a customer, 404 for an unknown product, 422 for a forged cursor', async () => {
    const product = await createProduct(s.database, regionId, 1)
    expect((await s.request('GET', `/v1/products/${product.id}/movements`)).status).toBe(401)
    expect((await s.request('GET', `/v1/products/${product.id}/movements`, { token: customer.token })).status).toBe(403)
    expect((await s.request('GET', '/v1/products/nope/movements', { token: admin.token })).status).toBe(404)
    expect((await s.request('GET', `/v1/products/${product.id}/movements?cursor=abc`, { token: admin.token })).status).toBe(422)
  })

  test('pages oldest first, and stays readable after the product is deleted', async () => {
    const product = await createProduct(s.database, regionId, 1)
    for (let i = 0; i < 4; i++) await adjust(product.id, { delta: 1, reason: `r${i}` })
    const first = await s.request('GET', `/v1/products/${product.id}/movements?limit=2`, { token: admin.token })
    expect(first.body.data.map((m: Movement) => m.stock_after)).toEqual([1, 2])
    const second = await s.request('GET', `/v1/products/${product.id}/movements?limit=2&cursor=${first.body.next_cursor}`, { token: admin.token })
    expect(second.body.data.map((m: Movement) => m.stock_after)).toEqual([3, 4])
    await s.request('DELETE', `/v1/products/${product.id}`, { token: admin.token })
    expect((await ledger(product.id)).map((m) => m.stock_after)).toEqual([1, 2, 3, 4, 5])
  })
})

describe('purchases', () => {
  test('POST adds every line to stock with a purchase row naming the supplier; GET lists receipts', async () => {
    const [a, b] = [await createProduct(s.database, regionId, 1), await createProduct(s.database, regionId, 0)]
    const res = await s.request('POST', '/v1/purchases', {
      token: admin.token,
      body: {
        supplier: 'Distribuidora Paulista',
        items: [
          { product_id: a.id, quantity: 10, unit_cost: 450 },
          { product_id: b.id, quantity: 3, unit_cost: 1200 },
        ],
      },
    })
    expect(res.status).toBe(201)
    expect(res.body).toEqual({
      id: expect.any(String),
      supplier: 'Distribuidora Paulista',
      items: [
        { product_id: a.id, quantity: 10, unit_cost: 450, currency: 'BRL' },
        { product_id: b.id, quantity: 3, unit_cost: 1200, currency: 'BRL' },
      ],
      created_by: admin.id,
      created_at: expect.any(String),
    })
    expect(await stockOf(a.id)).toBe(11)
    expect(await stockOf(b.id)).toBe(3)
    const rows = await expectLedgerExplainsStock(a.id)
    expect(rows.at(-1)).toMatchObject({ delta: 10, reason: 'purchase', ref: res.body.id, supplier: 'Distribuidora Paulista', stock_after: 11 })

    const list = await s.request('GET', '/v1/purchases?limit=100', { token: admin.token })
    expect(list.status).toBe(200)
    expect(list.body.data).toContainEqual(res.body)
  })

  test('all lines or none: one unknown or deleted product refuses the whole receipt (422)', async () => {
    const [a, deleted] = [await createProduct(s.database, regionId, 1), await createProduct(s.database, regionId, 1)]
    await s.request('DELETE', `/v1/products/${deleted.id}`, { token: admin.token })
    const res = await s.request('POST', '/v1/purchases', {
      token: admin.token,
      body: {
        supplier: 'X',
        items: [
          { product_id: a.id, quantity: 5, unit_cost: 1 },
          { product_id: 'nope', quantity: 1, unit_cost: 1 },
          { product_id: deleted.id, quantity: 1, unit_cost: 1 },
        ],
      },
    })
    expect(res.status).toBe(422)
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['items.1.product_id', 'items.2.product_id'])
    expect(await stockOf(a.id)).toBe(1)
    expect(await ledger(a.id)).toHaveLength(1)
    const list = await s.request('GET', '/v1/purchases?limit=100', { token: admin.token })
    expect(list.body.data.flatMap((p: { items: { product_id: string }[] }) => p.items.map((i) => i.product_id))).not.toContain(a.id)
  })

  test('422 for no lines, a zero or negative quantity, a negative cost, no supplier; 401/403', async () => {
    const a = await createProduct(s.database, regionId, 0)
    const line = { product_id: a.id, quantity: 1, unit_cost: 1 }
    for (const body of [
      { supplier: 'X', items: [] },
      { supplier: 'X', items: [{ ...line, quantity: 0 }] },
      { supplier: 'X', items: [{ ...line, quantity: -2 }] },
      { supplier: 'X', items: [{ ...line, unit_cost: -1 }] },
      { items: [line] },
      { supplier: 'X', items: [{ ...line, price: 5 }] },
    ]) {
      expect((await s.request('POST', '/v1/purchases', { token: admin.token, body })).status).toBe(422)
    }
    expect(await stockOf(a.id)).toBe(0)
    expect((await s.request('POST', '/v1/purchases', { body: { supplier: 'X', items: [line] } })).status).toBe(401)
    expect((await s.request('POST', '/v1/purchases', { token: customer.token, body: { supplier: 'X', items: [line] } })).status).toBe(403)
    expect((await s.request('GET', '/v1/purchases')).status).toBe(401)
    expect((await s.request('GET', '/v1/purchases', { token: customer.token })).status).toBe(403)
  })
})

describe('races', () => {
  test('50 concurrent adjustments (delta and set) and purchases on one product: the ledger sums to the stock, never below 0', async () => {
    const product = await createProduct(s.database, regionId, 20)
    const requests = Array.from({ length: 50 }, (_, i) => {
      if (i % 5 === 0) return s.request('POST', '/v1/purchases', { token: admin.token, body: { supplier: 'Race Supplies', items: [{ product_id: product.id, quantity: 3, unit_cost: 100 }] } })
      if (i % 7 === 0) return adjust(product.id, { set: i % 2 === 0 ? 0 : 9, reason: `count ${i}` })
      return adjust(product.id, { delta: i % 3 === 0 ? 4 : -6, reason: `race ${i}` })
    })
    const answers = await Promise.all(requests)
    for (const answer of answers) expect([200, 201, 409]).toContain(answer.status)
    const refused = answers.filter((a) => a.status === 409)
    for (const answer of refused) expect(answer.body.code).toBe('insufficient_stock')
    expect(refused.length).toBeGreaterThan(0)

    const rows = await expectLedgerExplainsStock(product.id)
    // Every accepted change is one row (a set to the current figure writes none).
    const accepted = answers.filter((a) => a.status !== 409).length
    expect(rows.length - 1).toBeLessThanOrEqual(accepted)
    expect(rows.filter((r) => r.supplier === 'Race Supplies')).toHaveLength(10)
  })

  test('admin sets racing with sales lose neither: each set lands exactly, every sale is a row', async () => {
    const product = await createProduct(s.database, regionId, 10_000)
    let selling = true
    let sold = 0
    const seller = async () => {
      while (selling) {
        await s.database.write(async (tx) => {
          if ((await moveStock(tx, { productId: product.id, delta: -1, reason: 'sale', ref: 'order' }, new Date().toISOString())) !== null) sold++
        })
        await Bun.sleep(0)
      }
    }
    const sellers = Array.from({ length: 4 }, seller)
    const counts = [900, 700, 800, 600, 1000]
    for (const count of counts) expect((await adjust(product.id, { set: count, reason: `stocktake ${count}` })).status).toBe(200)
    selling = false
    await Promise.all(sellers)

    const rows = await expectLedgerExplainsStock(product.id)
    for (const count of counts) expect(rows.find((r) => r.ref === `stocktake ${count}`)!.stock_after).toBe(count)
    expect(rows.filter((r) => r.reason === 'sale')).toHaveLength(sold)
    const lastSet = rows.findIndex((r) => r.ref === 'stocktake 1000')
    expect(await stockOf(product.id)).toBe(1000 - rows.slice(lastSet + 1).length)
    expect(rows.slice(0, lastSet).some((r) => r.reason === 'sale')).toBe(true)
  })
})
