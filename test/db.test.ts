import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { openDatabase, type Database } from '../src/db/client'
import { users } from '../src/modules/accounts/schema'
import { newId } from '../src/lib/ids'

let dir: string
let database: Database
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shop-db-'))
  database = await openDatabase({ url: `file:${join(dir, 'shop.db')}` })
})
afterAll(() => {
  database.close()
  rmSync(dir, { recursive: true, force: true })
})

const user = (id = newId()) => ({ id, email: `${id}@db.test`, name: 'x', roles: ['customer' as const], createdAt: 'now', updatedAt: 'now' })

describe('database', () => {
  test('WAL, foreign keys and a busy timeout are set', async () => {
    expect((await database.db.get<{ journal_mode: string }>(sql`PRAGMA journal_mode`))!.journal_mode).toBe('wal')
    expect((await database.db.get<{ foreign_keys: number }>(sql`PRAGMA foreign_keys`))!.foreign_keys).toBe(1)
    expect((await database.db.get<{ timeout: number }>(sql`PRAGMA busy_timeout`))!.timeout).toBeGreaterThan(0)
  })

  test('200 concurrent write transactions of one process all commit', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, () =>
        database.write(async (tx) => {
          await tx.insert(users).values(user())
          await tx.insert(users).values(user())
        }),
      ),
    )
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(0)
    expect((await database.db.get<{ n: number }>(sql`SELECT count(*) AS n FROM users`))!.n).toBe(400)
  })

  test('a failing transaction writes nothing and the next one still runs', async () => {
    const id = newId()
    await expect(
      database.write(async (tx) => {
        await tx.insert(users).values(user(id))
        await tx.insert(users).values(user(id))
      }),
    ).rejects.toThrow()
    expect(await database.db.select().from(users).where(sql`id = ${id}`)).toHaveLength(0)
    await database.write((tx) => tx.insert(users).values(user(id)))
    expect(await database.db.select().from(users).where(sql`id = ${id}`)).toHaveLength(1)
  })

  test('a foreign key violation is refused', async () => {
    const error = await database.write(async (tx) => tx.run(sql`INSERT INTO sessions (id, user_id, created_at) VALUES ('s', 'no-such-user', 'now')`)).catch((e) => e)
    expect(String(error?.cause)).toContain('FOREIGN KEY')
  })

  test('opening the same file again applies no migration twice', async () => {
    const again = await openDatabase({ url: `file:${join(dir, 'shop.db')}` })
    expect((await again.db.get<{ n: number }>(sql`SELECT count(*) AS n FROM users`))!.n).toBeGreaterThan(0)
    again.close()
  })
})
