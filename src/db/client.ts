import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { createClient, type Client, type InArgs, type LibsqlError, type ResultSet, type Transaction } from '@libsql/client'
import { fillPlaceholders, type Query } from 'drizzle-orm'
import { drizzle, type LibSQLDatabase } from 'drizzle-orm/libsql'
import { migrate } from 'drizzle-orm/libsql/migrator'
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { MIGRATION_MODULES } from './modules'
import { groupCommit, type RunTransaction } from './group-commit'
import { localClient, rawValues, type RawValue } from './local-client'
import { startCheckpointer } from './checkpoints'

/** No relational schema is registered: each module reads its own tables with plain selects. */
export type Db = LibSQLDatabase
/** What helpers that serve reads and writes alike take: the read handle or a write's. */
export type Queryable = BaseSQLiteDatabase<'async', ResultSet>
declare const inWrite: unique symbol
/** The handle `write` gives its function: only statements run through it are in the transaction. */
export type Tx = Queryable & { readonly [inWrite]: true }

export interface Database {
  /** Reads. Never write through it: writes go through `write`. */
  readonly db: Db
  /**
   * Runs `fn` in a write transaction (BEGIN IMMEDIATE), serialised with every other
   * write of this process; writes queued together share one commit (`groupCommit`), so
   * `fn` may run inside a savepoint of a transaction other writes also use. Inside,
   * await only the database: the local driver is synchronous, so any other await just
   * holds the write lock longer. The promise settles once the write has committed.
   */
  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T>
  /**
   * The first row of a prepared read (`prepared(…)(db)`, bound by `values` as its `.get` would
   * be), on the read connection, as an array of values: integers as numbers, blobs as bytes.
   * Skips drizzle's mapping and the client's row objects, which cost more than the statement
   * for the public catalog (~20 µs of server CPU an uncached page: bench/README.md); the
   * statement runs as `.get` would run it, in a read transaction of its own.
   */
  firstRow(query: PreparedRead, values: Record<string, unknown>): Promise<RawValue[] | undefined>
  /** A file on this machine, not a `libsql://` server: statements stay prepared and a statement costs no round trip. */
  readonly local: boolean
  ping(): Promise<void>
  /** Closes the connections at once; resolves when the checkpoint worker has closed its own. */
  close(): Promise<void>
}

/** What `firstRow` takes: a drizzle prepared query. */
export interface PreparedRead {
  getQuery(): Query
}

export interface DatabaseOptions {
  url: string
  authToken?: string
  synchronous?: 'NORMAL' | 'FULL'
  migrationsFolder?: string
  /** Where a failed background checkpoint is reported (the database stays usable; the WAL grows until one succeeds). */
  onCheckpointError?: (error: string) => void
  /** False when another process applied them already (the workers of WORKERS=N: the primary did). */
  migrate?: boolean
  /** False when another process checkpoints this file (under WORKERS=N, worker 0 does). */
  checkpoints?: boolean
}

const isLocal = (url: string) => url.startsWith('file:')

/** The file a `file:` URL names (`file:data/shop.db` relative, `file:///var/data/shop.db` absolute); undefined for a remote or in-memory database. */
export function localDatabasePath(url: string): string | undefined {
  if (!isLocal(url)) return undefined
  const path = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url.slice('file:'.length)
  return path === '' || path.startsWith(':memory:') ? undefined : path
}

/** How long start-up waits for a remote database's first answer: a host that drops packets would otherwise hold the boot for minutes, looking hung. */
const REMOTE_FIRST_ANSWER_MS = 15_000

async function firstAnswer(client: Client) {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${REMOTE_FIRST_ANSWER_MS / 1000} s`)), REMOTE_FIRST_ANSWER_MS)
  })
  try {
    await Promise.race([client.execute('SELECT 1'), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** How long a write waits for another process's write lock (WORKERS=N, a script sharing the file) before failing with SQLITE_BUSY. */
const WRITE_LOCK_WAIT_MS = 5000

/**
 * BEGIN IMMEDIATE, retried while another process holds the write lock. The writer's
 * busy_timeout is 0: SQLite's own wait would sleep on the one JS thread (the driver is
 * synchronous), stalling every request of this process; here only the queued writes wait,
 * and more of them join the group that gets the lock.
 */
async function beginWrite(client: Client): Promise<Transaction> {
  const deadline = performance.now() + WRITE_LOCK_WAIT_MS
  for (let attempt = 0; ; attempt++) {
    try {
      return await client.transaction('write')
    } catch (error) {
      if ((error as LibsqlError).code !== 'SQLITE_BUSY' || performance.now() > deadline) throw error
      await Bun.sleep(Math.min(attempt + 1, 4) * Math.random())
    }
  }
}

/**
 * A local file's transactions: BEGIN IMMEDIATE on the writer's one connection, and the
 * statements run on the writer itself, so the same `tx` serves every transaction and a
 * query prepared on it (`prepared`) is prepared once for the life of the process.
 */
const localTransactions =
  (client: Client, writer: Db): RunTransaction =>
  async (fn) => {
    const transaction = await beginWrite(client)
    try {
      const result = await fn(writer as unknown as Tx)
      await transaction.commit()
      return result
    } catch (error) {
      await transaction.rollback()
      throw error
    }
  }

/**
 * Two connections: one for reads, one for writes. A single writer connection keeps
 * per-connection PRAGMAs (synchronous, busy_timeout) in force and, with the in-process
 * queue, means this process never contends with itself for the SQLite write lock; other
 * processes sharing the file (WORKERS=N) are waited for by `beginWrite`. A local file is opened with
 * `localClient` (statements kept prepared), a `libsql://` URL with @libsql/client.
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const {
    url,
    authToken,
    synchronous = 'NORMAL',
    migrationsFolder = join(import.meta.dir, '../../drizzle'),
    onCheckpointError = () => undefined,
    migrate: migrating = true,
    checkpoints = true,
  } = options
  const local = isLocal(url)
  const file = localDatabasePath(url)
  const path = file ?? (local ? url.slice('file:'.length) : '')
  const onDisk = file !== undefined
  if (onDisk) mkdirSync(dirname(path), { recursive: true })
  const remote = () => createClient({ url, authToken, concurrency: 1 })
  const writerClient: Client = local ? localClient(path) : remote()
  const localReader = local ? localClient(path) : undefined
  const readerClient: Client = localReader ?? remote()
  const firstRow = localReader
    ? async (sql: string, args: unknown[]) => localReader.firstRow(sql, args as InArgs)
    : async (sql: string, args: unknown[]) => {
        const row = (await readerClient.execute({ sql, args: args as InArgs })).rows[0]
        return row && rawValues(row)
      }
  if (!local) await firstAnswer(readerClient)
  if (local) {
    await writerClient.execute('PRAGMA journal_mode = WAL')
    for (const client of [writerClient, readerClient]) {
      await client.execute(`PRAGMA synchronous = ${synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`)
      await client.execute('PRAGMA busy_timeout = 5000')
      await client.execute('PRAGMA foreign_keys = ON')
    }
    // Checkpoints run in a worker thread (checkpoints.ts), never inside a commit on this one.
    if (onDisk) await writerClient.execute('PRAGMA wal_autocheckpoint = 0')
  }
  const writer = drizzle(writerClient)
  const reader = drizzle(readerClient)
  if (migrating) {
    for (const module of MIGRATION_MODULES) {
      const folder = join(migrationsFolder, module)
      if (existsSync(folder)) await migrate(writer, { migrationsFolder: folder, migrationsTable: `__drizzle_migrations_${module.replace('-', '_')}` })
    }
  }
  // From here on the writer waits for other processes' locks in beginWrite, not in SQLite.
  if (local) await writerClient.execute('PRAGMA busy_timeout = 0')

  const checkpointer = onDisk && checkpoints ? startCheckpointer(path, onCheckpointError) : undefined

  return {
    db: reader,
    local,
    write: groupCommit(local ? localTransactions(writerClient, writer) : (fn) => writer.transaction((tx) => fn(tx as unknown as Tx))),
    firstRow(query, values) {
      const { sql, params } = query.getQuery()
      return firstRow(sql, fillPlaceholders(params, values))
    },
    async ping() {
      await readerClient.execute('SELECT 1')
    },
    close() {
      writerClient.close()
      readerClient.close()
      return checkpointer?.stop() ?? Promise.resolve()
    },
  }
}

/**
 * A query built once per handle (drizzle's prepared statements): building SQL costs more
 * than running it here. On a local file the writer's handle is the same in every transaction
 * and the reader's never changes, so each is built once; a remote transaction's handle is
 * new each time and gets its own.
 */
export function prepared<Q>(build: (q: Queryable) => Q): (q: Queryable) => Q {
  const byHandle = new WeakMap<Queryable, Q>()
  return (q) => {
    let query = byHandle.get(q)
    if (!query) byHandle.set(q, (query = build(q)))
    return query
  }
}
