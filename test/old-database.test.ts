import { afterAll, describe, expect, test } from 'bun:test'
import { Database as SqliteFile } from 'bun:sqlite'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eq, sql } from 'drizzle-orm'
import { openDatabase, type Database } from '../src/db/client'
import { idempotencyKeys } from '../src/modules/idempotency/schema'
import { startShop } from './support/harness'
import { address } from './support/shopping'

/** Made by main at 60410f4 (all migrations, then the demo seed): idempotency_keys came with orders' 0000 then. */
const FIXTURE = join(import.meta.dir, 'fixtures/main-60410f4.db')
const dir = mkdtempSync(join(tmpdir(), 'shop-old-db-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// SQLite keeps each CREATE statement as run, minus `IF NOT EXISTS`; the journals are left out.
const SCHEMA = `SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name NOT GLOB '__drizzle_migrations_*' ORDER BY type, name`
const schemaOfFile = (path: string) => {
  const file = new SqliteFile(path, { readonly: true })
  try {
    return file.query(SCHEMA).all()
  } finally {
    file.close()
  }
}
const schemaOf = (database: Database) => database.db.all(sql.raw(SCHEMA))
const namesOf = (schema: unknown[]) => (schema as { type: string; name: string }[]).map(({ type, name }) => `${type} ${name}`)
/** Indexes later migrations replaced on purpose: payments 0001 moved owed webhooks to the fake gateway's outbox table. */
const REPLACED = ['index fake_gateway_charges_undelivered_idx']
const keptNamesOf = (schema: unknown[]) => namesOf(schema).filter((name) => !REPLACED.includes(name))
/** What a database made today has: the fixture's tables as they were, plus whatever migrations written since add. */
const freshSchema = async (name: string) => {
  const fresh = await openDatabase({ url: `file:${join(dir, name)}` })
  try {
    return { schema: await schemaOf(fresh), idempotencyJournal: await journalRows(fresh, 'idempotency') }
  } finally {
    await fresh.close()
  }
}
const journalRows = async (database: Database, module: string) => (await database.db.get<{ n: number }>(sql.raw(`SELECT count(*) AS n FROM __drizzle_migrations_${module}`)))!.n

describe('a database file made by main before idempotency keys had their own migrations', () => {
  test('opens with every table it had, now as a fresh database has them, its data kept, and Idempotency-Key works on it', async () => {
    const path = join(dir, 'old.db')
    copyFileSync(FIXTURE, path)
    const before = schemaOfFile(path)
    const { schema: fresh } = await freshSchema('fresh-for-old.db')
    const s = await startShop({ databaseUrl: `file:${path}` })
    let after: unknown[] = []
    try {
      after = await schemaOf(s.database)
      expect(namesOf(after)).toEqual(expect.arrayContaining(keptNamesOf(before)))
      expect(after).toEqual(fresh)
      expect(await journalRows(s.database, 'idempotency')).toBe(1)
      // orders' 0000 (as the fixture had it) and 0001 (money events on the timeline).
      expect(await journalRows(s.database, 'orders')).toBe(2)
      expect((await s.database.db.get<{ n: number }>(sql`SELECT count(*) AS n FROM products`))!.n).toBeGreaterThan(0)

      const product = (await s.database.db.get<{ id: string }>(sql`SELECT id FROM products WHERE type = 'generic' AND stock > 0 LIMIT 1`))!
      const user = await s.createUser()
      expect((await s.request('POST', '/v1/cart/items', { token: user.token, body: { product_id: product.id, quantity: 1 } })).status).toBe(200)
      const order = (headers: Record<string, string>, shipping = address) => s.request('POST', '/v1/orders', { token: user.token, headers, body: { shipping_address: shipping } })
      const first = await order({ 'idempotency-key': 'old-file' })
      expect(first.status).toBe(201)
      const again = await order({ 'idempotency-key': 'old-file' })
      expect(again.status).toBe(201)
      expect(again.body.id).toBe(first.body.id)
      expect((await order({ 'idempotency-key': 'old-file' }, { ...address, line1: 'Rua B, 2' })).status).toBe(409)
      expect(await s.database.db.select({ key: idempotencyKeys.key }).from(idempotencyKeys).where(eq(idempotencyKeys.userId, user.id))).toEqual([{ key: 'old-file' }])
    } finally {
      await s.close()
    }

    const reopened = await openDatabase({ url: `file:${path}` })
    expect(await journalRows(reopened, 'idempotency')).toBe(1)
    expect(await schemaOf(reopened)).toEqual(after)
    await reopened.close()
  })

  test('a fresh file gets every table of the old one, idempotency_keys from its own module once', async () => {
    const { schema, idempotencyJournal } = await freshSchema('fresh.db')
    expect(namesOf(schema)).toEqual(expect.arrayContaining(keptNamesOf(schemaOfFile(FIXTURE))))
    expect(idempotencyJournal).toBe(1)
    expect(namesOf(schema).filter((name) => name === 'table idempotency_keys')).toHaveLength(1)
  })
})
