import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { statementCounts } from '../bench/lib/statement-counts'
import { startShop, type TestShop } from './support/harness'
import { shopping } from './support/shopping'
import { holdWriter } from './support/hold-writer'

// Installed before the shop prepares its statements, so each is tagged with its SQL.
const counter = statementCounts()
let s: TestShop
let shop: ReturnType<typeof shopping>
beforeAll(async () => {
  s = await startShop()
  shop = shopping(s)
})
afterAll(async () => {
  await s.close()
  counter.restore()
})

/** Deterministic, so a failure can be replayed. */
function random(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed / 2 ** 31
  }
}

const cartOf = async (token: string) => (await s.request('GET', '/v1/cart', { token })).body.items as { product_id: string; quantity: number }[]

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('batched checkout', () => {
  test('customers racing over scarce stock: no oversell, the ledger sums to the stock, every 409 names its short lines, winners’ carts emptied and losers’ kept', async () => {
    const next = random(16)
    for (let round = 0; round < 3; round++) {
      const stocks = [12, 8, 5, 3]
      const products: Awaited<ReturnType<typeof shop.product>>[] = []
      for (const stock of stocks) products.push(await shop.product(stock))
      const customers = await Promise.all(
        Array.from({ length: 50 }, async () => {
          const lines = products.flatMap((p, i) => (next() < 0.5 ? [{ id: p.id, quantity: 1 + Math.floor(next() * Math.min(3, stocks[i]!)) }] : []))
          return { ...(await shop.customerWithCart(lines)), lines }
        }),
      )
      const results = await Promise.all(customers.map((c) => shop.checkout(c.token)))
      const sold = new Map<string, number>()
      for (const [i, res] of results.entries()) {
        const { lines, token } = customers[i]!
        const cart = await cartOf(token)
        if (!lines.length) {
          expect(res.status).toBe(422)
          continue
        }
        if (res.status === 201) {
          expect(res.body.items.map((item: { product_id: string; quantity: number }) => [item.product_id, item.quantity])).toEqual(
            expect.arrayContaining(lines.map((line) => [line.id, line.quantity])),
          )
          for (const line of lines) sold.set(line.id, (sold.get(line.id) ?? 0) + line.quantity)
          expect(cart).toEqual([])
          continue
        }
        expect(res.status).toBe(409)
        expect(res.body.code).toBe('out_of_stock')
        expect(res.body.errors.length).toBeGreaterThan(0)
        for (const short of res.body.errors) {
          const line = lines.find((l) => l.id === short.product_id)!
          expect(short.requested).toBe(line.quantity)
          expect(short.available).toBeGreaterThanOrEqual(0)
          expect(short.available).toBeLessThan(short.requested)
        }
        expect(cart.map((item) => [item.product_id, item.quantity]).sort()).toEqual(lines.map((line) => [line.id, line.quantity]).sort())
      }
      expect(results.some((res) => res.status === 201)).toBe(true)
      expect(results.some((res) => res.status === 409)).toBe(true)
      for (const [i, p] of products.entries()) {
        const stock = await shop.stockOf(p.id)
        expect(stock).toBe(stocks[i]! - (sold.get(p.id) ?? 0))
        expect(stock).toBeGreaterThanOrEqual(0)
        expect(await shop.ledgerSum(p.id)).toBe(stock)
      }
    }
  })

  test('one bad order in a batch fails alone: a short line, an empty cart; the neighbours are placed and an idempotent retry replays', async () => {
    const p = await shop.product(3)
    const q = await shop.product(5)
    const first = await shop.customerWithCart([{ id: p.id, quantity: 2 }])
    const short = await shop.customerWithCart([
      { id: p.id, quantity: 2 },
      { id: q.id, quantity: 1 },
    ])
    const empty = await shop.customerWithCart([])
    const last = await shop.customerWithCart([
      { id: q.id, quantity: 1 },
      { id: p.id, quantity: 1 },
    ])
    const retrying = await shop.customerWithCart([{ id: q.id, quantity: 1 }])
    const earlier = await shop.checkout(retrying.token, { 'idempotency-key': 'batch-1' })
    expect(earlier.status).toBe(201)

    counter.start()
    const release = holdWriter(s.database)
    // Sent one after another so the batch decides them in this order.
    const sent = []
    for (const [c, headers] of [
      [first, {}],
      [short, {}],
      [empty, {}],
      [retrying, { 'idempotency-key': 'batch-1' }],
      [last, {}],
    ] as const) {
      sent.push(shop.checkout(c.token, headers))
      await sleep(20)
    }
    await release()
    const [a, b, c, d, e] = await Promise.all(sent)
    counter.stop()
    // The batch read its carts, its keys and its profiles in one statement each.
    expect(counter.runsOf(/from "cart_items"/)).toBe(1)
    expect(counter.runsOf(/from "idempotency_keys"/)).toBe(1)
    expect(counter.runsOf(/from "users"/)).toBe(1)
    expect(a!.status).toBe(201)
    expect(b!.status).toBe(409)
    expect(b!.body.errors).toEqual([{ product_id: p.id, requested: 2, available: 1 }])
    expect(c!.status).toBe(422)
    expect(d!.status).toBe(201)
    expect(d!.body.id).toBe(earlier.body.id)
    expect(e!.status).toBe(201)
    expect(await shop.stockOf(p.id)).toBe(0)
    expect(await shop.stockOf(q.id)).toBe(3)
    expect(await shop.ledgerSum(p.id)).toBe(0)
    expect(await shop.ledgerSum(q.id)).toBe(3)
    expect(await cartOf(first.token)).toEqual([])
    expect(await cartOf(last.token)).toEqual([])
    expect(await cartOf(short.token)).toHaveLength(2)
  })
})
