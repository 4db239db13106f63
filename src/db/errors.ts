/** The error and its causes, outermost first (drizzle wraps the client's error, which wraps the driver's). */
function* causes(error: unknown): Generator<{ code?: string; message?: string }> {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) yield e as { code?: string; message?: string }
}

/** True when a query failed on a UNIQUE or PRIMARY KEY constraint. */
export function isUniqueViolation(error: unknown): boolean {
  for (const { code, message } of causes(error)) {
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return true
    if (message?.includes('UNIQUE constraint failed')) return true
  }
  return false
}

/**
 * SQLite's answers (base or extended codes) when it cannot write now, whatever the request:
 * the disk or the file's page limit is full, another process holds the lock past
 * busy_timeout, an I/O error, a file made read-only or a journal it cannot open. The
 * transaction was rolled back, so the same request may succeed later.
 */
const CANNOT_WRITE = /^SQLITE_(FULL|BUSY|LOCKED|IOERR|READONLY|CANTOPEN)(_|$)/

/**
 * The driver's error when a write failed because the database cannot write right now (not
 * because of the request: answer 503, not 500), else undefined. Its message names the
 * condition only; drizzle's wrapper around it also carries the statement's parameters
 * (personal data), so log this one.
 */
export function cannotWrite(error: unknown): { code: string; message?: string } | undefined {
  for (const { code, message } of causes(error)) if (code && CANNOT_WRITE.test(code)) return { code, message }
  return undefined
}
