import { and, count, eq } from 'drizzle-orm'
import type { TestShop } from './harness'
import { createProduct, createRegion } from './fixtures'
import { flashSaleEntries } from '../../src/modules/flash-sale/schema'
import { stockMovements } from '../../src/modules/catalog/schema'

export const PAYMENT_WINDOW_SECONDS = 4 * 3600

export interface DropSetup {
  units?: number
  waitlist?: number
  stock?: number
  /** Longer than a drop by default, so the background payment check never expires a winner unasked. */
  paymentWindowSeconds?: number
  intervalSeconds?: number
  /** Epoch ms of the first drop; the shop's clock now by default. */
  startsAt?: number
}

/** An iPhone with stock and a one-drop campaign on it, created by an admin through the API. */
export async function createDrop(s: TestShop, setup: DropSetup = {}) {
  const { units = 10, stock = 1000, paymentWindowSeconds = PAYMENT_WINDOW_SECONDS, intervalSeconds = 3600, startsAt = s.deps.clock.now() } = setup
  const region = await createRegion(s.database)
  const product = await createProduct(s.database, region.id, stock, { title: 'iPhone 17', price: 999_900 })
  const admin = await s.admin()
  const body = {
    product_id: product.id,
    price: 100,
    units_per_drop: units,
    drop_count: 1,
    interval_seconds: intervalSeconds,
    starts_at: new Date(startsAt).toISOString(),
    per_customer_limit: 1,
    payment_window_seconds: paymentWindowSeconds,
    ...(setup.waitlist === undefined ? {} : { waitlist_size: setup.waitlist }),
  }
  const res = await s.request('POST', '/v1/flash-sales', { token: admin.token, body })
  if (res.status !== 201) throw new Error(`campaign not created: ${res.status} ${JSON.stringify(res.body)}`)
  return { campaign: res.body, dropId: res.body.drops[0].id as string, product, admin }
}

/** Polls until `check` is true; fails (never passes silently) after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000, everyMs = 20) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await Bun.sleep(everyMs)
  }
}

export const decidedCount = async (s: TestShop, dropId: string) => (await s.database.db.select({ n: count() }).from(flashSaleEntries).where(eq(flashSaleEntries.dropId, dropId)).get())!.n

/** Waits until the allocator has decided `n` entries of the drop. */
export const allocated = (s: TestShop, dropId: string, n: number) => until(`${n} entries decided`, async () => (await decidedCount(s, dropId)) >= n)

export const entriesOf = (s: TestShop, dropId: string) => s.database.db.select().from(flashSaleEntries).where(eq(flashSaleEntries.dropId, dropId)).orderBy(flashSaleEntries.seq)

export const ledgerOf = (s: TestShop, productId: string, ref: string) =>
  s.database.db
    .select()
    .from(stockMovements)
    .where(and(eq(stockMovements.productId, productId), eq(stockMovements.ref, ref)))
    .orderBy(stockMovements.id)
