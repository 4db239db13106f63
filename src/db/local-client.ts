import Database from 'libsql'
import { LibsqlError, type Client, type InArgs, type InStatement, type InValue, type ResultSet, type Row, type Transaction, type TransactionMode, type Value } from '@libsql/client'

/** Distinct statements kept prepared per connection; the least recently used goes first. */
const STATEMENT_CACHE_SIZE = 500

interface Prepared {
  statement: Database.Statement
  /** True when the statement returns rows (SELECT, or a write with RETURNING). */
  reader: boolean
  columns: string[]
  columnTypes: string[]
  /** The prototype of this statement's rows: index access, a `length`, no enumerable indexes. */
  row: object
}

const VALUES = Symbol('values')

/**
 * Rows as @libsql/client makes them (by index, and by column name as the only enumerable
 * keys: drizzle maps typed selects by index, raw `sql` reads by name), but with the index
 * accessors on one prototype per statement instead of a defineProperty per value.
 */
function rowPrototype(columns: string[]): object {
  const prototype = Object.create(null)
  Object.defineProperty(prototype, 'length', { value: columns.length })
  columns.forEach((_, i) =>
    Object.defineProperty(prototype, i, {
      get(this: { [VALUES]: Value[] }) {
        return this[VALUES][i]
      },
    }),
  )
  return prototype
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)
/** Integers are read as bigint and given back as numbers only when exact, as @libsql/client's `intMode: number` does. */
function toNumber(value: bigint) {
  if (value > MAX_SAFE || value < -MAX_SAFE) throw new RangeError('Received integer which cannot be safely represented as a JavaScript number')
  return Number(value)
}

function toValue(value: unknown): Value {
  if (typeof value === 'bigint') return toNumber(value)
  if (value instanceof Uint8Array) return value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength) as ArrayBuffer
  return value as Value
}

/** A row's values as `Client.firstRow` gives them: integers as numbers, blobs as bytes. */
export type RawValue = string | number | Uint8Array | null

/** The values of a @libsql/client row, as `firstRow` gives them (a remote database's reads). */
export const rawValues = (row: Row): RawValue[] => Array.from({ length: row.length }, (_, i) => (row[i] instanceof ArrayBuffer ? new Uint8Array(row[i]) : (row[i] as RawValue)))

/** `localClient`'s `Client`, with the short way to a read's first row. */
export interface LocalClient extends Client {
  /**
   * The first row of a read as an array, straight from the driver: no row object and no copy
   * of a blob. For the hottest reads (the public catalog's pages, ~8 KB of JSON as one blob),
   * where the rows `execute` makes cost more than the statement. The statement is reset
   * once its row is read, so the next read starts a new read transaction and sees every
   * commit made before it.
   */
  firstRow(sql: string, args: InArgs): RawValue[] | undefined
}

function toArg(value: InValue): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0
  if (value instanceof Date) return value.valueOf()
  if (value instanceof ArrayBuffer) return Buffer.from(value)
  if (value === undefined) throw new TypeError('undefined cannot be passed as argument to the database')
  if (typeof value === 'number' && !Number.isFinite(value)) throw new RangeError('Only finite numbers (not Infinity or NaN) can be passed as arguments')
  return value
}

function toArgs(args: InArgs | undefined): unknown {
  if (!args) return []
  if (Array.isArray(args)) return args.map(toArg)
  const named: Record<string, unknown> = {}
  // libsql binds names without their sigil.
  for (const name in args) named[/^[@$:]/.test(name) ? name.slice(1) : name] = toArg(args[name]!)
  return named
}

/** The same error @libsql/client throws (code, extended code), with the driver's error as cause. */
function libsqlError(error: unknown): unknown {
  if (!(error instanceof Database.SqliteError)) return error
  const { code: extended, rawCode, message } = error as Error & { code: string; rawCode?: number }
  const base = extended.match(/^SQLITE_[A-Z]+/)?.[0] ?? 'SQLITE_UNKNOWN'
  return new LibsqlError(message, base, extended, rawCode, error)
}

const resultSet = (columns: string[], columnTypes: string[], rows: Row[], rowsAffected: number, lastInsertRowid: bigint | undefined): ResultSet => ({
  columns,
  columnTypes,
  rows,
  rowsAffected,
  lastInsertRowid,
  toJSON: () => ({ columns, columnTypes, rows: rows.map((row) => Array.from({ length: row.length }, (_, i) => row[i])), rowsAffected, lastInsertRowid: lastInsertRowid?.toString() ?? null }),
})

const BEGIN: Record<TransactionMode, string> = { write: 'BEGIN IMMEDIATE', read: 'BEGIN TRANSACTION READONLY', deferred: 'BEGIN DEFERRED' }

/**
 * A @libsql/client `Client` for a local file: one libsql connection whose prepared statements
 * are kept. @libsql/client's own local client prepares every statement again and rebuilds
 * its column list and rows with a defineProperty per value; measured on this stack, a
 * drizzle prepared INSERT cost 26 µs through it against 5 µs for the statement itself.
 * One connection means what the caller runs between `BEGIN` and `COMMIT` (through `execute`
 * or a `transaction()`) is one transaction: the single writer relies on it. Remote URLs
 * (`libsql://`) keep @libsql/client, which caches statements on the server.
 */
export function localClient(path: string): LocalClient {
  const db = new Database(path)
  const cache = new Map<string, Prepared>()
  let closed = false
  /** A `transaction()` is open: once SQLite has ended it by itself (an I/O or full-disk error), its statements must not autocommit. */
  let inTransactionHandle = false

  const prepare = (sql: string): Prepared => {
    const hit = cache.get(sql)
    if (hit) {
      // Most recently used goes last: eviction takes from the front.
      cache.delete(sql)
      cache.set(sql, hit)
      return hit
    }
    const statement = db.prepare(sql)
    const reader = statement.reader
    statement.safeIntegers(true)
    const columnDefs = reader ? statement.raw(true).columns() : []
    const columns = columnDefs.map((c) => c.name)
    const prepared = { statement, reader, columns, columnTypes: columnDefs.map((c) => c.type ?? ''), row: rowPrototype(columns) }
    if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!)
    cache.set(sql, prepared)
    return prepared
  }

  const refuseWhenEnded = () => {
    if (closed) throw new LibsqlError('The client is closed', 'CLIENT_CLOSED')
    if (inTransactionHandle && !db.inTransaction) throw new LibsqlError('The transaction has been rolled back', 'TRANSACTION_CLOSED')
  }

  const run = (stmt: InStatement | string, args?: InArgs): ResultSet => {
    refuseWhenEnded()
    const sql = typeof stmt === 'string' ? stmt : stmt.sql
    const bound = toArgs(typeof stmt === 'string' ? args : stmt.args)
    try {
      const { statement, reader, columns, columnTypes, row } = prepare(sql)
      if (!reader) {
        const info = statement.run(bound)
        return resultSet([], [], [], info.changes, BigInt(info.lastInsertRowid))
      }
      const rows = (statement.all(bound) as unknown[][]).map((raw) => {
        const values = raw.map(toValue)
        // The values under a symbol no spread or key listing sees, as @libsql/client's rows show none.
        const out = Object.create(row, { [VALUES]: { value: values } })
        // Like @libsql/client: a name repeated in a join keeps its first column.
        for (let i = 0; i < columns.length; i++) if (!(columns[i]! in out)) out[columns[i]!] = values[i]
        return out as Row
      })
      return resultSet(columns, columnTypes, rows, 0, undefined)
    } catch (error) {
      throw libsqlError(error)
    }
  }
  const exec = (sql: string) => {
    try {
      db.exec(sql)
    } catch (error) {
      throw libsqlError(error)
    }
  }
  const attempt = <T>(fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn())
    } catch (error) {
      return Promise.reject(error)
    }
  }
  const runAll = (stmts: Array<InStatement | [string, InArgs?]>) => stmts.map((s) => (Array.isArray(s) ? run(s[0], s[1]) : run(s)))
  const rollbackIfOpen = () => {
    if (db.inTransaction) run('ROLLBACK')
  }
  /** `fn` inside BEGIN … COMMIT; rolled back if it throws. */
  const inTransaction = <T>(mode: TransactionMode, fn: () => T): T => {
    run(BEGIN[mode])
    try {
      const result = fn()
      run('COMMIT')
      return result
    } catch (error) {
      rollbackIfOpen()
      throw error
    }
  }
  // Schema changes can change what a cached `SELECT *` returns: start afresh after them.
  const afterSchemaChange = <T>(result: T): T => {
    cache.clear()
    return result
  }
  const executeMultiple = (sql: string) => attempt(() => afterSchemaChange(exec(sql)))

  const firstRow = (sql: string, args: InArgs): RawValue[] | undefined => {
    refuseWhenEnded()
    const bound = toArgs(args)
    try {
      const { statement, reader } = prepare(sql)
      if (!reader) throw new TypeError('firstRow runs statements that return rows')
      // A reader's statement is in raw mode (`prepare`): its row is an array. `get` resets it after the row.
      const row = statement.get(bound) as unknown[] | undefined
      return row?.map((value) => (typeof value === 'bigint' ? toNumber(value) : (value as RawValue)))
    } catch (error) {
      throw libsqlError(error)
    }
  }

  const client: LocalClient = {
    protocol: 'file',
    firstRow,
    get closed() {
      return closed
    },
    execute: (stmt: InStatement | string, args?: InArgs) => attempt(() => run(stmt, args)),
    batch: (stmts, mode = 'deferred') => attempt(() => inTransaction(mode, () => runAll(stmts))),
    migrate: (stmts) =>
      attempt(() => {
        run('PRAGMA foreign_keys = off')
        try {
          return afterSchemaChange(inTransaction('deferred', () => runAll(stmts)))
        } finally {
          run('PRAGMA foreign_keys = on')
        }
      }),
    async transaction(mode: TransactionMode = 'write'): Promise<Transaction> {
      run(BEGIN[mode])
      inTransactionHandle = true
      const end = (fn: () => void) => () => {
        inTransactionHandle = false
        fn()
      }
      return {
        execute: (stmt: InStatement | string, args?: InArgs) => attempt(() => run(stmt, args)),
        batch: (stmts) => attempt(() => runAll(stmts)),
        executeMultiple,
        commit: () => attempt(end(() => void run('COMMIT'))),
        rollback: () => attempt(end(rollbackIfOpen)),
        close: end(rollbackIfOpen),
        get closed() {
          return !db.inTransaction
        },
      }
    },
    executeMultiple,
    // A local file has no replica to sync and no connection that can drop.
    sync: () => Promise.resolve(undefined),
    reconnect() {},
    close() {
      if (closed) return
      closed = true
      cache.clear()
      db.close()
    },
  }
  return client
}
