import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { createClient, type Client } from '@libsql/client'
import { drizzle } from 'drizzle-orm/libsql'
import { migrate } from 'drizzle-orm/libsql/migrator'
import * as schema from './schema'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { MIGRATION_MODULES } from './modules'
import { groupCommit } from './group-commit'

export type Db = ReturnType<typeof drizzle<typeof schema>>
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]
/** Either the read handle or an open write transaction: for helpers that serve both. */
export type Queryable = Db | Tx

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
  ping(): Promise<void>
  close(): void
}

export interface DatabaseOptions {
  url: string
  authToken?: string
  synchronous?: 'NORMAL' | 'FULL'
  migrationsFolder?: string
}

const isLocal = (url: string) => url.startsWith('file:')

/**
 * Two single-connection clients: one for reads, one for writes. A single writer
 * connection keeps per-connection PRAGMAs (synchronous, busy_timeout) in force and,
 * with the in-process queue, means this process never contends with itself for the
 * SQLite write lock; busy_timeout only covers other processes sharing the file.
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const { url, authToken, synchronous = 'NORMAL', migrationsFolder = join(import.meta.dir, '../../drizzle') } = options
  if (isLocal(url)) {
    const path = url.slice('file:'.length)
    if (path && !path.startsWith(':memory:')) mkdirSync(dirname(path), { recursive: true })
  }
  const open = () => createClient({ url, authToken, concurrency: 1 })
  const writerClient: Client = open()
  const readerClient: Client = open()
  if (isLocal(url)) {
    await writerClient.execute('PRAGMA journal_mode = WAL')
    for (const client of [writerClient, readerClient]) {
      await client.execute(`PRAGMA synchronous = ${synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`)
      await client.execute('PRAGMA busy_timeout = 5000')
      await client.execute('PRAGMA foreign_keys = ON')
    }
  }
  const writer = drizzle(writerClient, { schema })
  const reader = drizzle(readerClient, { schema })
  for (const module of MIGRATION_MODULES) {
    const folder = join(migrationsFolder, module)
    if (existsSync(folder)) await migrate(writer, { migrationsFolder: folder, migrationsTable: `__drizzle_migrations_${module.replace('-', '_')}` })
  }

  return {
    db: reader,
    write: groupCommit(writer),
    async ping() {
      await readerClient.execute('SELECT 1')
    },
    close() {
      writerClient.close()
      readerClient.close()
    },
  }
}
