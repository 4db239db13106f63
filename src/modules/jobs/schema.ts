import { sql } from 'drizzle-orm'
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

/**
 * Durable jobs: the database is the system of record, so a job scheduled in a write
 * transaction exists exactly when that transaction's effect does, and survives restarts.
 * A worker claims a due job by setting a lease (owner + until) with a guarded UPDATE.
 */
export const jobs = sqliteTable(
  'jobs',
  {
    id: text('id').primaryKey(),
    kind: text('kind').notNull(),
    payload: text('payload', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    /** At most one live job per key (e.g. one payment check per order). */
    dedupeKey: text('dedupe_key'),
    /** Epoch milliseconds of the injected clock. */
    runAt: integer('run_at').notNull(),
    attempts: integer('attempts').notNull().default(0),
    leaseOwner: text('lease_owner'),
    leaseUntil: integer('lease_until'),
    lastError: text('last_error'),
    createdAt: text('created_at').notNull(),
    doneAt: text('done_at'),
    /** Set when the attempts ran out: kept for an operator, never retried. */
    failedAt: text('failed_at'),
  },
  (t) => [uniqueIndex('jobs_dedupe_key_unique').on(t.dedupeKey), index('jobs_due_idx').on(t.runAt).where(sql`done_at IS NULL AND failed_at IS NULL`)],
)
