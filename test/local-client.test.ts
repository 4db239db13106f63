import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'libsql'
import { createClient, type Client, type ResultSet } from '@libsql/client'
import { localClient, rawValues } from '../src/db/local-client'

// The same statements through @libsql/client's own local client and through ours, on two files.
const dir = mkdtempSync(join(tmpdir(), 'shop-local-client-'))
const theirs = createClient({ url: `file:${join(dir, 'theirs.db')}` })
const ours = localClient(join(dir, 'ours.db'))
afterAll(() => {
  theirs.close()
  ours.close()
  rmSync(dir, { recursive: true, force: true })
})

/** What a caller can observe of a result: rows by index and by name, their keys, the counts. */
const observed = (result: ResultSet) => ({
  columns: result.columns,
  rows: result.rows.map((row) => ({ byIndex: Array.from({ length: row.length }, (_, i) => row[i]), keys: Object.keys(row), byName: { ...row } })),
  rowsAffected: result.rowsAffected,
  lastInsertRowid: result.lastInsertRowid,
})
const both = async (fn: (client: Client) => Promise<ResultSet>) => {
  const [a, b] = [await fn(theirs), await fn(ours)]
  expect(observed(b)).toEqual(observed(a))
  return b
}
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (e: { code?: string; extendedCode?: string; message?: string }) => ({ code: e.code, extendedCode: e.extendedCode, message: e.message }),
  )

test('answers as @libsql/client does: rows by index and by name (a repeated name keeps its first column), counts, ids', async () => {
  for (const client of [theirs, ours]) {
    await client.executeMultiple('CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT, n INTEGER, data BLOB); CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id), name TEXT);')
  }
  const inserted = await both((c) => c.execute({ sql: 'INSERT INTO a (name, n, data) VALUES (?, ?, ?)', args: ['first', 7, new Uint8Array([1, 2, 3])] }))
  expect(inserted.rowsAffected).toBe(1)
  await both((c) => c.execute({ sql: 'INSERT INTO b (a_id, name) VALUES (?, ?)', args: [1, 'second'] }))
  const joined = await both((c) => c.execute('SELECT a.id, a.name, b.name, a.n FROM a JOIN b ON b.a_id = a.id'))
  expect(joined.rows[0]![2]).toBe('second')
  expect(joined.rows[0]!.name).toBe('first')
  const named = await both((c) => c.execute({ sql: 'SELECT name FROM a WHERE n = :n', args: { ':n': 7 } }))
  expect(named.rows).toHaveLength(1)
  for (const client of [theirs, ours]) expect(new Uint8Array((await client.execute('SELECT data FROM a')).rows[0]!.data as ArrayBuffer)).toEqual(new Uint8Array([1, 2, 3]))
})

test('refuses what @libsql/client refuses, with the same codes', async () => {
  const outcomes = async (client: Client) => [
    await failure(client.execute('SELECT * FROM missing')),
    await failure(client.execute({ sql: 'INSERT INTO a (id, name) VALUES (?, ?)', args: [1, 'again'] })),
    await failure(client.execute(`SELECT ${2n ** 60n}`)),
    await failure(client.execute({ sql: 'SELECT ?', args: [Number.NaN] })),
  ]
  expect(await outcomes(ours)).toEqual(await outcomes(theirs))
  expect((await outcomes(ours))[1]).toMatchObject({ code: 'SQLITE_CONSTRAINT', extendedCode: 'SQLITE_CONSTRAINT_PRIMARYKEY' })
})

test('a transaction commits or rolls back what ran on its connection', async () => {
  for (const client of [theirs, ours]) {
    const kept = await client.transaction('write')
    await kept.execute({ sql: 'INSERT INTO a (name) VALUES (?)', args: ['kept'] })
    await kept.commit()
    const dropped = await client.transaction('write')
    await dropped.execute({ sql: 'INSERT INTO a (name) VALUES (?)', args: ['dropped'] })
    await dropped.rollback()
    expect(dropped.closed).toBe(true)
  }
  await both((c) => c.execute("SELECT name FROM a WHERE name IN ('kept', 'dropped')"))
})

test('a statement is prepared once, however often it runs', async () => {
  const prototype = Database.prototype as unknown as { prepare(sql: string): unknown }
  const prepare = prototype.prepare
  let prepared = 0
  prototype.prepare = function (this: unknown, sql: string) {
    prepared++
    return prepare.call(this, sql)
  }
  try {
    for (let i = 0; i < 50; i++) await ours.execute({ sql: 'SELECT count(*) AS n FROM a WHERE n > ?', args: [i] })
  } finally {
    prototype.prepare = prepare
  }
  expect(prepared).toBe(1)
})

test("firstRow gives the first row's values as execute reads them, integers as numbers and blobs as bytes; @libsql/client's rows give the same through rawValues", async () => {
  const sql = 'SELECT id, name, n, data, NULL AS empty FROM a WHERE data IS NOT NULL ORDER BY id'
  const expected = [1, 'first', 7, new Uint8Array([1, 2, 3]), null]
  expect(ours.firstRow(sql, [])).toEqual(expected)
  expect(rawValues((await theirs.execute(sql)).rows[0]!)).toEqual(expected)
  expect(ours.firstRow('SELECT id FROM a WHERE name = ?', ['nobody'])).toBeUndefined()
  expect(await failure(Promise.resolve().then(() => ours.firstRow(`SELECT ${2n ** 60n}`, [])))).toEqual(await failure(theirs.execute(`SELECT ${2n ** 60n}`)))
  expect(() => ours.firstRow('UPDATE a SET n = n', [])).toThrow(TypeError)
})

test('firstRow ends its read transaction: a later commit on another connection is seen by the next read, and a checkpoint can empty the WAL', async () => {
  const path = join(dir, 'wal.db')
  const reader = localClient(path)
  const writer = localClient(path)
  try {
    await writer.executeMultiple('PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER); WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 1000) INSERT INTO t SELECT n FROM s;')
    // A thousand rows, of which firstRow reads one: unless the statement is reset, it keeps its read transaction open.
    expect(reader.firstRow('SELECT n FROM t ORDER BY n', [])).toEqual([1])
    await writer.execute('UPDATE t SET n = n + 1000')
    // Another statement: the same one would be reset by its next run anyway.
    expect(reader.firstRow('SELECT min(n) FROM t', [])).toEqual([1001])
    expect(reader.firstRow('SELECT n FROM t ORDER BY n DESC', [])).toEqual([2000])
    const [checkpoint] = (await writer.execute('PRAGMA wal_checkpoint(TRUNCATE)')).rows
    expect({ ...checkpoint }).toMatchObject({ busy: 0, log: 0 })
  } finally {
    reader.close()
    writer.close()
  }
})
