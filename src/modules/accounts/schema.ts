import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import type { Role } from '../../lib/access-tokens'

export const users = sqliteTable(
  'users',
  {
    id: text('id').primaryKey(),
    /** Lower-cased, so emails compare case-insensitively; null once the account is erased. */
    email: text('email'),
    name: text('name').notNull(),
    passwordHash: text('password_hash'),
    roles: text('roles', { mode: 'json' }).$type<Role[]>().notNull(),
    /** The address as JSON sealed with AES-256-GCM (see lib/crypto). */
    addressSealed: text('address_sealed'),
    photoKey: text('photo_key'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
    deletedAt: text('deleted_at'),
    /** Set by an admin: the account cannot sign in and its tokens are refused until it is cleared. */
    disabledAt: text('disabled_at'),
  },
  (t) => [uniqueIndex('users_email_unique').on(t.email)],
)

/** One login on one device; revoking it ends every refresh token of its family. */
export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    createdAt: text('created_at').notNull(),
    revokedAt: text('revoked_at'),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
)

/** Refresh tokens are stored as SHA-256 hashes; `usedAt` set means rotated (a reuse revokes the session). */
export const refreshTokens = sqliteTable('refresh_tokens', {
  id: text('id').primaryKey(),
  sessionId: text('session_id')
    .notNull()
    .references(() => sessions.id),
  tokenHash: text('token_hash').notNull().unique(),
  expiresAt: integer('expires_at').notNull(),
  usedAt: text('used_at'),
  createdAt: text('created_at').notNull(),
})
