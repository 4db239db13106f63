/**
 * Databases made before a table moved to another module's migration folder keep working:
 * test/fixtures/main-60410f4.db was made by main at 60410f4 (migrations and the demo seed),
 * when the stock ledger (stock_movements) was still inventory's; it is catalog's since.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { openDatabase, type Queryable } from '../src/db/client'
import { MIGRATION_MODULES } from '../src/db/modules'
import { startShop, type TestShop } from './support/harness'

const FIXTURE = join(import.meta.dir, 'fixtures/main-60410f4.db')

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shop-migrations-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Every table, index and trigger as SQLite would recreate it (migration journals aside). */
const schemaOf = (q: Queryable) =>
  q.all<{ type: string; name: string; sql: string | null }>(sql`SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE '__drizzle_migrations%' ORDER BY type, name`)
/** How many migrations a module has on disk (drizzle-kit's journal). */
const migrationsIn = (module: string) => (JSON.parse(readFileSync(join(import.meta.dir, '../drizzle', module, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] }).entries.length
const journal = (q: Queryable, module: string) => q.all<{ created_at: number }>(sql.raw(`SELECT created_at FROM __drizzle_migrations_${module.replace('-', '_')} ORDER BY created_at`))

describe('a database made by main before the ledger moved to catalog', () => {
  let shop: TestShop
  beforeAll(async () => {
    const file = join(dir, 'old.db')
    copyFileSync(FIXTURE, file)
    shop = await startShop({ databaseUrl: `file:${file}` })
  })
  afterAll(() => shop.close())

  test('opens: catalog applies its baseline migration, inventory nothing new', async () => {
    const { db } = shop.database
    // Every catalog migration: the fixture's two, the baseline that finds its table there, and any written since.
    expect(await journal(db, 'catalog')).toHaveLength(migrationsIn('catalog'))
    expect(await journal(db, 'inventory')).toHaveLength(1)
  })

  test('its stock moves through the catalog with a ledger row, and the old rows still sum to the stock', async () => {
    const admin = await shop.admin()
    const [product] = (await shop.request('GET', '/v1/products?limit=1')).body.data
    expect(product.stock).toBeGreaterThan(0)
    const adjusted = await shop.request('POST', `/v1/products/${product.id}/stock`, { token: admin.token, body: { delta: 3, reason: 'recount' } })
    expect(adjusted.status).toBe(200)
    expect(adjusted.body.stock).toBe(product.stock + 3)
    const ledger = await shop.request('GET', `/v1/products/${product.id}/movements?limit=100`, { token: admin.token })
    expect(ledger.status).toBe(200)
    const rows = ledger.body.data as { delta: number; reason: string; ref: string; stock_after: number }[]
    expect(rows.length).toBeGreaterThan(1)
    expect(rows.at(-1)).toMatchObject({ delta: 3, reason: 'adjustment', ref: 'recount', stock_after: product.stock + 3 })
    expect(rows.reduce((sum, row) => sum + row.delta, 0)).toBe(product.stock + 3)
  })

  test("its flash-sale drops take their campaign's terms, each with an audit salt of its own", async () => {
    const drops = await shop.database.db.all<{ price: number; waitlist_size: number; payment_window_seconds: number; audit_salt: string }>(
      sql`SELECT price, waitlist_size, payment_window_seconds, audit_salt FROM flash_sale_drops`,
    )
    expect(drops).toHaveLength(24)
    for (const drop of drops) expect(drop).toMatchObject({ price: 100, waitlist_size: 100, payment_window_seconds: 900 })
    expect(new Set(drops.map((d) => d.audit_salt)).size).toBe(24)
    expect(drops.every((d) => d.audit_salt.length >= 16)).toBe(true)
    const campaign = (await shop.request('GET', '/v1/flash-sales')).body.data[0]
    expect(campaign).toMatchObject({ price: 100, cancelled_at: null })
    expect(campaign.drops[0].price).toBe(100)
  })

  test('its products read as the API writes them: the JSON kept in their rows was made from their columns', async () => {
    const rows = await shop.database.db.all<{ id: string; price: number; categories: string }>(
      sql`SELECT id, price, (SELECT json_group_array(category_id) FROM (SELECT category_id FROM product_categories WHERE product_id = products.id ORDER BY category_id)) AS categories FROM products WHERE deleted_at IS NULL ORDER BY id`,
    )
    expect(rows.length).toBeGreaterThan(0)
    const page = await (await fetch(`${shop.url}/v1/products?limit=100`)).text()
    const products = JSON.parse(page).data as { id: string; price: number; category_ids: string[] }[]
    expect(JSON.stringify(JSON.parse(page))).toBe(page)
    expect(products.map(({ id, price, category_ids }) => ({ id, price, categories: JSON.stringify(category_ids) }))).toEqual(rows.slice(0, 100))
  })

  test('has the very tables, indexes and triggers a new database gets', async () => {
    const fresh = await openDatabase({ url: `file:${join(dir, 'new.db')}` })
    try {
      for (const module of MIGRATION_MODULES) expect(await journal(fresh.db, module)).toEqual(await journal(shop.database.db, module))
      const old = await schemaOf(shop.database.db)
      expect(old.map((entry) => entry.name)).toContain('stock_movements_product_idx')
      expect(await schemaOf(fresh.db)).toEqual(old)
    } finally {
      await fresh.close()
    }
  })
})
