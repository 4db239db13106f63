import Database from 'libsql'

type Tagged = { sql?: string; run(...a: unknown[]): unknown; all(...a: unknown[]): unknown }

/**
 * Counts (and times) every run of every SQL statement of this process, by wrapping libsql's
 * statement methods: statements are prepared once and kept (src/db/local-client.ts), so each
 * is tagged with its SQL when prepared. Install it before the shop opens its database; only
 * runs between `start` and `stop` count. `restore` puts libsql's methods back.
 */
export function statementCounts() {
  const counts = new Map<string, { n: number; ms: number }>()
  let counting = false
  const database = Database.prototype as unknown as { prepare(sql: string): Tagged }
  const prepare = database.prepare
  database.prepare = function (this: unknown, sql: string) {
    const statement = prepare.call(this, sql)
    statement.sql = sql
    return statement
  }
  const statementPrototype = Object.getPrototypeOf(new Database(':memory:').prepare('SELECT 1')) as Tagged
  const originals = { run: statementPrototype.run, all: statementPrototype.all }
  for (const method of ['run', 'all'] as const) {
    const original = originals[method]
    statementPrototype[method] = function (this: Tagged, ...args: unknown[]) {
      const started = performance.now()
      try {
        return original.apply(this, args)
      } finally {
        if (counting && this.sql) {
          const entry = counts.get(this.sql) ?? { n: 0, ms: 0 }
          entry.n++
          entry.ms += performance.now() - started
          counts.set(this.sql, entry)
        }
      }
    }
  }
  return {
    counts,
    start() {
      counting = true
    },
    stop() {
      counting = false
    },
    /** How many runs of statements whose SQL `matches`, counted so far. */
    runsOf(matches: RegExp) {
      let runs = 0
      for (const [sql, { n }] of counts) if (matches.test(sql)) runs += n
      return runs
    },
    restore() {
      database.prepare = prepare
      Object.assign(statementPrototype, originals)
    },
  }
}
