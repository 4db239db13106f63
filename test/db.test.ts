import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { openDatabase, type Database } from '../src/db/client'
import { users } from '../src/modules/accounts/schema'
import { newId } from '../src/lib/ids'
import { eventually } from './support/eventually'

let dir: string
let database: Database
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shop-db-'))
  database = await openDatabase({ url: `file:${join(dir, 'shop.db')}` })
})
afterAll(async () => {
  await database.close()
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

  test('once SQLite has ended a transaction by itself, its later statements are refused, not committed alone', async () => {
    const id = newId()
    // A ROLLBACK stands in for what SQLite does on a full disk or an I/O error.
    const outcome = await database
      .write(async (tx) => {
        await tx.run(sql`ROLLBACK`)
        await tx.insert(users).values(user(id))
      })
      .catch((error) => error)
    expect(String(outcome?.cause ?? outcome)).toContain('TRANSACTION_CLOSED')
    expect(await database.db.select().from(users).where(sql`id = ${id}`)).toHaveLength(0)
    await database.write((tx) => tx.insert(users).values(user(id)))
    expect(await database.db.select().from(users).where(sql`id = ${id}`)).toHaveLength(1)
  })

  test('a foreign key violation is refused', async () => {
    const error = await database.write(async (tx) => tx.run(sql`INSERT INTO sessions (id, user_id, created_at) VALUES ('s', 'no-such-user', 'now')`)).catch((e) => e)
    expect(String(error?.cause)).toContain('FOREIGN KEY')
  })

  test('commits never checkpoint; the worker copies the WAL into the database file', async () => {
    expect((await database.write((tx) => tx.get<{ wal_autocheckpoint: number }>(sql`PRAGMA wal_autocheckpoint`)))!.wal_autocheckpoint).toBe(0)
    const file = join(dir, 'shop.db')
    const before = statSync(file).size
    // ~8 MB in eight commits. Only a checkpoint moves pages from the WAL into the database file,
    // and no commit makes one: without the worker the file would stay as it was.
    const long = 'x'.repeat(2000)
    for (let round = 0; round < 8; round++) {
      await database.write(async (tx) => {
        for (let i = 0; i < 500; i++) await tx.insert(users).values({ ...user(), name: long })
      })
    }
    await eventually(() => expect(statSync(file).size - before).toBeGreaterThan(6 * 1024 * 1024), 4000)
    expect((await database.db.get<{ n: number }>(sql`SELECT count(*) AS n FROM users WHERE length(name) = 2000`))!.n).toBe(4000)
  })

  test('opening the same file again applies no migration twice', async () => {
    const again = await openDatabase({ url: `file:${join(dir, 'shop.db')}` })
    expect((await again.db.get<{ n: number }>(sql`SELECT count(*) AS n FROM users`))!.n).toBeGreaterThan(0)
    await again.close()
  })
})

describe('group commit', () => {
  const exists = async (id: string) => (await database.db.select().from(users).where(sql`id = ${id}`)).length === 1
  /** Holds the writer (once its transaction runs) until released, so the writes queued meanwhile form one group. */
  const holdWriter = async () => {
    let release!: () => void
    let running!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    const started = new Promise<void>((resolve) => (running = resolve))
    const write = database.write(() => {
      running()
      return held
    })
    await started
    return { release, write }
  }

  test('writes queued together share one transaction, and one that throws fails alone', async () => {
    const [a, b, c] = [newId(), newId(), newId()]
    const blocker = await holdWriter()
    const first = database.write((tx) => tx.insert(users).values(user(a)))
    const failing = database.write(async (tx) => {
      await tx.insert(users).values(user(b))
      throw new Error('no thanks')
    })
    // The read side sees only commits: a, written in this same transaction, is not there yet.
    const third = database.write(async (tx) => {
      await tx.insert(users).values(user(c))
      return exists(a)
    })
    blocker.release()
    await blocker.write
    await first
    await expect(failing).rejects.toThrow('no thanks')
    expect(await third).toBe(false)
    expect([await exists(a), await exists(b), await exists(c)]).toEqual([true, false, true])
  })

  test('a write that ends the shared transaction fails every write of its group, and none of them stays', async () => {
    const [a, c] = [newId(), newId()]
    const blocker = await holdWriter()
    const before = database.write((tx) => tx.insert(users).values(user(a)))
    const breaking = database.write((tx) => tx.run(sql`ROLLBACK`))
    const after = database.write((tx) => tx.insert(users).values(user(c)))
    blocker.release()
    await blocker.write
    const outcomes = await Promise.allSettled([before, breaking, after])
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected'])
    expect([await exists(a), await exists(c)]).toEqual([false, false])
    await database.write((tx) => tx.insert(users).values(user(a)))
    expect(await exists(a)).toBe(true)
  })
})
