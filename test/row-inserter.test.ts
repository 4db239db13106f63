import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { openDatabase, type Database } from '../src/db/client'
import { rowInserter } from '../src/db/row-inserter'
import { users } from '../src/modules/accounts/schema'
import { idempotencyKeys } from '../src/modules/idempotency/schema'
import { newId } from '../src/lib/ids'

let dir: string
let database: Database
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shop-rows-'))
  database = await openDatabase({ url: `file:${join(dir, 'shop.db')}` })
})
afterAll(async () => {
  await database.close()
  rmSync(dir, { recursive: true, force: true })
})

const insertUsers = rowInserter(users, ['id', 'email', 'name', 'passwordHash', 'roles', 'createdAt', 'updatedAt'], { perStatement: 50, ignoreConflicts: true })
const someUsers = (count: number) =>
  Array.from({ length: count }, (_, i) => {
    const id = newId()
    return { id, email: `${id}@rows.test`, name: `user ${i}`, passwordHash: null, roles: ['customer' as const], createdAt: 'now', updatedAt: 'now' }
  })

test('rows go in whole batches, then one by one, each with its own values; ignored conflicts are not counted', async () => {
  const first = someUsers(120)
  expect(await database.write((tx) => insertUsers(tx, first))).toBe(120)
  const stored = await database.db.select().from(users).where(sql`email LIKE '%@rows.test'`)
  expect(stored.map((u) => [u.id, u.name, u.roles]).sort()).toEqual(first.map((u) => [u.id, u.name, u.roles]).sort())
  // Half of these are already there.
  const again = [...first.slice(0, 60), ...someUsers(60)]
  expect(await database.write((tx) => insertUsers(tx, again))).toBe(60)
  expect((await database.db.get<{ n: number }>(sql`SELECT count(*) AS n FROM users WHERE email LIKE '%@rows.test'`))!.n).toBe(180)
})

test('a nullable column whose encoder would not keep null is refused when the inserter is made', () => {
  expect(() => rowInserter(idempotencyKeys, ['userId', 'key', 'fingerprint', 'response', 'expiresAt'])).toThrow('response is nullable')
})
