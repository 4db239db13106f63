import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freshSecrets } from './support/secrets'
import { sql } from 'drizzle-orm'
import { openDatabase, type Database } from '../src/db/client'
import { DEMO_REGIONS, IPHONE } from '../src/seed-data'

const dir = mkdtempSync(join(tmpdir(), 'shop-seed-'))
const databaseUrl = `file:${join(dir, 'shop.db')}`
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** `bun run seed` as an operator runs it, on the given database. */
function runSeed() {
  const run = Bun.spawnSync(['bun', 'src/seed.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      UPLOAD_DIR: join(dir, 'uploads'),
      ...freshSecrets(),
      REDIS_URL: '',
      LOG_LEVEL: 'silent',
    },
  })
  if (run.exitCode !== 0) throw new Error(`seed failed: ${run.stderr.toString()}`)
}

const TABLES = ['users', 'regions', 'categories', 'products', 'product_categories', 'stock_movements', 'purchases']
/** Every row of the seeded tables, in storage order: equal snapshots mean nothing changed. */
async function snapshot(database: Database) {
  const tables: Record<string, unknown[]> = {}
  for (const table of TABLES) tables[table] = await database.db.all(sql.raw(`SELECT * FROM ${table} ORDER BY rowid`))
  return tables
}

test('the seed loads regions, real books and the Black Friday iPhone on a fresh database, and a second run changes nothing', async () => {
  runSeed()
  let database = await openDatabase({ url: databaseUrl })
  const first = await snapshot(database)
  await database.close()

  const regions = first.regions as { id: string; country: string; currency: string; currency_exponent: number; tax_bps: number }[]
  expect(regions.map((r) => [r.country, r.currency, r.currency_exponent])).toEqual(DEMO_REGIONS.map((r) => [r.country, r.currency, r.currency === 'VND' ? 0 : 2]))
  const products = first.products as { id: string; region_id: string; type: string; sku: string; stock: number; price: number; attributes: string }[]
  const books = products.filter((p) => p.type === 'book')
  expect(books.length).toBeGreaterThanOrEqual(80)
  for (const book of books) expect(book.sku).toBe(JSON.parse(book.attributes).isbn)
  const brazil = regions.find((r) => r.country === 'BR')!
  const iphone = products.find((p) => p.sku === IPHONE.sku)!
  expect(iphone.region_id).toBe(brazil.id)
  expect(iphone.stock).toBeGreaterThanOrEqual(24 * 100)
  const vietnam = regions.find((r) => r.country === 'VN')!
  for (const p of products.filter((p) => p.region_id === vietnam.id)) expect(p.price % 1000).toBe(0)

  // The ledger explains every product's stock.
  const movements = first.stock_movements as { product_id: string; delta: number }[]
  for (const product of products) {
    expect(movements.filter((m) => m.product_id === product.id).reduce((sum, m) => sum + m.delta, 0)).toBe(product.stock)
  }
  expect((first.users as { email: string }[]).map((u) => u.email).sort()).toEqual(['admin@shop.test', 'customer@shop.test'])

  runSeed()
  database = await openDatabase({ url: databaseUrl })
  const second = await snapshot(database)
  await database.close()
  expect(second).toEqual(first)
}, 60_000)
