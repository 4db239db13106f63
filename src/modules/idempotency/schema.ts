import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'

/**
 * First responses of requests sent with an `Idempotency-Key`, per user, written in the
 * transaction of the effect. `response` is null while a request that must call out (a
 * payment) is still running.
 */
export const idempotencyKeys = sqliteTable(
  'idempotency_keys',
  {
    userId: text('user_id').notNull(),
    key: text('key').notNull(),
    /** Keyed hash of method, path and body: the same key with another request is a conflict. */
    fingerprint: text('fingerprint').notNull(),
    response: text('response', { mode: 'json' }).$type<{ status: number; body: unknown }>(),
    /** Epoch milliseconds. */
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.key] }), index('idempotency_keys_expiry_idx').on(t.expiresAt)],
)
