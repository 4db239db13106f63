import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { inArray, sql } from 'drizzle-orm'
import Database from 'libsql'
import { localDatabasePath } from '../src/db/client'
import { ManualClock } from '../src/lib/clock'
import { orders } from '../src/modules/orders/schema'
import { startShop, type TestShop } from './support/harness'
import { shopping } from './support/shopping'

const DELAY = 60_000
const clock = new ManualClock(Date.now())
let s: TestShop
let shop: ReturnType<typeof shopping>
beforeAll(async () => {
  s = await startShop({ clock, env: { PAYMENT_CHECK_DELAY_MS: String(DELAY) } })
  shop = shopping(s)
})
afterAll(() => s.close())

/**
 * PRAGMA max_page_count is per connection: set on the writer's own (the `tx` every write
 * gets is the writer connection), it makes the file full at its current size, without root.
 * The filler takes what free pages the file still had, so the next writes must grow it.
 */
async function fillTheFile(): Promise<() => Promise<void>> {
  const [{ max_page_count: unlimited }] = (await s.database.write((tx) => tx.all(sql`PRAGMA max_page_count`))) as [{ max_page_count: number }]
  await s.database.write((tx) => tx.run(sql`CREATE TABLE IF NOT EXISTS test_filler (blob BLOB)`))
  await s.database.write((tx) => tx.run(sql`PRAGMA max_page_count = 1`))
  for (let full = false; !full; )
    full = await s.database
      .write((tx) => tx.run(sql`INSERT INTO test_filler VALUES (zeroblob(1000))`))
      .then(
        () => false,
        () => true,
      )
  return async function spaceReturns() {
    await s.database.write((tx) => tx.run(sql.raw(`PRAGMA max_page_count = ${unlimited}`)))
  }
}

/** Runs `whileFull` on a full file, then gives the space back (even if it failed) and runs `afterwards`. */
async function withFullFile(whileFull: () => Promise<void>, afterwards: () => Promise<void>) {
  const spaceReturns = await fillTheFile()
  try {
    await whileFull()
  } finally {
    await spaceReturns()
  }
  await afterwards()
}

const expect503 = (res: { status: number; body: { code?: string }; headers: Headers }) => {
  expect(res.status).toBe(503)
  expect(res.body.code).toBe('service_unavailable')
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
}

describe('a database that cannot write', () => {
  test('full: checkouts answer 503 service_unavailable with Retry-After, never 500, and leave nothing half-written; once space returns the retries go through', async () => {
    const p = await shop.product(100)
    const customers = await Promise.all(Array.from({ length: 20 }, () => shop.customerWithCart([{ id: p.id, quantity: 2 }])))
    let refused: typeof customers = []
    await withFullFile(
      async () => {
        const answers = await Promise.all(customers.map((u) => shop.checkout(u.token)))
        expect(answers.filter((res) => res.status !== 201 && res.status !== 503)).toEqual([])
        refused = customers.filter((_, i) => answers[i]!.status === 503)
        expect(refused.length).toBeGreaterThan(0)
        for (const res of answers.filter((r) => r.status === 503)) expect503(res)
        // Nothing half-written: a refused customer has no order and still has the cart; the stock is what the taken orders left.
        expect(
          await s.database.db
            .select()
            .from(orders)
            .where(
              inArray(
                orders.userId,
                refused.map((u) => u.id),
              ),
            ),
        ).toEqual([])
        for (const u of refused) expect((await s.request('GET', '/v1/cart', { token: u.token })).body.items).toMatchObject([{ product_id: p.id, quantity: 2 }])
        const taken = answers.length - refused.length
        expect(await shop.stockOf(p.id)).toBe(100 - 2 * taken)
        expect(await shop.ledgerSum(p.id)).toBe(100 - 2 * taken)
        // Reads still work meanwhile.
        expect((await s.request('GET', `/v1/products/${p.id}`)).status).toBe(200)
      },
      async () => {
        for (const u of refused) expect((await shop.checkout(u.token)).status).toBe(201)
        expect(await shop.stockOf(p.id)).toBe(60)
        expect(await shop.ledgerSum(p.id)).toBe(60)
      },
    )
  })

  test('full: a payment check that comes due meanwhile is not lost: the orders go unpaid (stock back) once space returns', async () => {
    const p = await shop.product(100)
    const placed = await Promise.all(Array.from({ length: 10 }, () => shop.customerWithCart([{ id: p.id, quantity: 1 }]).then((u) => shop.checkout(u.token))))
    const ids = placed.map((res) => res.body.id as string)
    const statuses = async () => (await s.database.db.select({ status: orders.status }).from(orders).where(inArray(orders.id, ids))).map((o) => o.status)
    await withFullFile(
      async () => {
        clock.advance(DELAY)
        await s.shop.services.jobs.runDue().catch(() => undefined)
        // Whatever ran, ran whole: an order is unpaid with its unit back, or still pending with it held.
        const unpaid = (await statuses()).filter((status) => status === 'unpaid').length
        expect(await shop.stockOf(p.id)).toBe(90 + unpaid)
        expect(await shop.ledgerSum(p.id)).toBe(90 + unpaid)
      },
      async () => {
        // Past any retry delay and job lease.
        for (let i = 0; i < 5 && (await statuses()).some((status) => status !== 'unpaid'); i++) {
          clock.advance(10 * 60_000)
          await s.shop.services.jobs.runDue()
        }
        expect(await statuses()).toEqual(ids.map(() => 'unpaid'))
        expect(await shop.stockOf(p.id)).toBe(100)
        expect(await shop.ledgerSum(p.id)).toBe(100)
      },
    )
  })

  test('locked by another process past the write wait (5 s, src/db/client.ts): 503 with Retry-After; the same request goes through once the lock is released', async () => {
    const p = await shop.product(10)
    const u = await s.createUser()
    const other = new Database(localDatabasePath(s.config.DATABASE_URL)!)
    try {
      other.exec('BEGIN IMMEDIATE')
      const add = () => s.request('POST', '/v1/cart/items', { token: u.token, body: { product_id: p.id, quantity: 1 } })
      expect503(await add())
      other.exec('ROLLBACK')
      expect((await add()).body.items).toMatchObject([{ product_id: p.id, quantity: 1 }])
    } finally {
      other.close()
    }
  })
})
