import { getTableColumns, sql, type Placeholder } from 'drizzle-orm'
import type { SQLiteTable } from 'drizzle-orm/sqlite-core'
import { prepared, type Queryable } from './client'

export interface RowInserterOptions {
  /** Rows per statement while there are that many left; the rest in statements of 32, 16, …, 1 rows. */
  perStatement?: number
  /** `ON CONFLICT DO NOTHING`: the count returned then says how many rows went in. */
  ignoreConflicts?: boolean
}

/**
 * Inserts rows of `table` through statements prepared once per handle (`prepared`): one of
 * `perStatement` rows and one of each power of two below it, so any count of rows (a batch of
 * checkouts) goes in a few statements. Building a multi-row INSERT costs far more than
 * running it here (drizzle spent ~15 ms building a 500-row one); prepared shapes cost nothing
 * to reuse, and a remote database still gets one round trip per `perStatement` rows. Every
 * row gives a value (null for none) for exactly `columns`. A placeholder's value goes through
 * its column's encoder, so a nullable column whose encoder would not keep null (JSON stores
 * "null", a boolean 0) is refused when the inserter is made.
 */
export function rowInserter<T extends SQLiteTable, C extends keyof T['$inferInsert'] & string>(table: T, columns: readonly C[], options: RowInserterOptions = {}) {
  const { perStatement = 50, ignoreConflicts = false } = options
  const definitions = getTableColumns(table)
  for (const column of columns) {
    const definition = definitions[column]!
    if (!definition.notNull && definition.mapToDriverValue(null) !== null) throw new Error(`rowInserter: ${column} is nullable but its encoder does not keep null`)
  }
  // The placeholders' names, made once: `${column}_${row}` for every row of a statement.
  const names = Array.from({ length: perStatement }, (_, i) => columns.map((column) => `${column}_${i}`))
  const shape = (rows: number) =>
    prepared((q) => {
      const values = Array.from({ length: rows }, (_, i) => Object.fromEntries(columns.map((column, j) => [column, sql.placeholder(names[i]![j]!)])) as Record<C, Placeholder>)
      const insert = q.insert(table).values(values as T['$inferInsert'][])
      return (ignoreConflicts ? insert.onConflictDoNothing() : insert).prepare()
    })
  const sizes = [perStatement]
  for (let rows = 1; rows < perStatement; rows *= 2) sizes.push(rows)
  sizes.sort((a, b) => b - a)
  const shapes = sizes.map((rows) => ({ rows, statement: shape(rows) }))
  const params = (rows: Pick<T['$inferInsert'], C>[]) => {
    const named: Record<string, unknown> = {}
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!
      const rowNames = names[i]!
      for (let j = 0; j < columns.length; j++) named[rowNames[j]!] = row[columns[j]!] ?? null
    }
    return named
  }

  /** Inserts `rows` in the caller's transaction; returns how many went in. */
  return async (q: Queryable, rows: Pick<T['$inferInsert'], C>[]) => {
    let inserted = 0
    let i = 0
    for (const { rows: size, statement } of shapes) for (; i + size <= rows.length; i += size) inserted += (await statement(q).run(params(rows.slice(i, i + size)))).rowsAffected
    return inserted
  }
}
