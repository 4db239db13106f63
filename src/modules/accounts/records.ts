import { and, eq, isNull, sql } from 'drizzle-orm'
import { prepared, type Queryable } from '../../db/client'
import type { DataKey } from '../../lib/crypto'
import type { FileUrl } from '../../lib/file-urls'
import { conflict, notFound } from '../../lib/errors'
import { openAddress } from './address'
import type { AdminUserDto, ProfileDto } from './model'
import { users } from './schema'

// Reads of the users table shared by sessions, profiles and the user list.
export type UserRow = typeof users.$inferSelect

const live = and(eq(users.id, sql.placeholder('id')), isNull(users.deletedAt))
export const liveUserById = prepared((q) => q.select().from(users).where(live).prepare())
/** Live accounts' names and sealed addresses, given as one JSON array of ids. */
export const liveContactsIn = prepared((q) =>
  q
    .select({ id: users.id, name: users.name, addressSealed: users.addressSealed })
    .from(users)
    .where(and(sql`${users.id} IN (SELECT value FROM json_each(${sql.placeholder('ids')}))`, isNull(users.deletedAt)))
    .prepare(),
)
export const liveRoles = prepared((q) => q.select({ roles: users.roles }).from(users).where(live).prepare())

const admins = prepared((q) =>
  q
    .select({ id: users.id })
    .from(users)
    .where(and(isNull(users.deletedAt), isNull(users.disabledAt), sql`EXISTS (SELECT 1 FROM json_each(${users.roles}) WHERE value = 'admin')`))
    .limit(2)
    .prepare(),
)

/**
 * 409 when `user` is the one enabled admin and the change (roles without admin, disabled,
 * erased) would leave none: nobody could manage the shop any more (a disabled admin cannot).
 * Run in the writing transaction, so two admins cannot each leave at once.
 */
export async function keepAnAdmin(q: Queryable, user: Pick<UserRow, 'roles' | 'disabledAt'>, action: string) {
  if (!user.roles.includes('admin') || user.disabledAt) return
  if ((await admins(q).all()).length < 2) throw conflict(`The last admin cannot ${action}; make another user an admin first`)
}

export const photoPath = (key: string) => `/v1/photos/${key}`

export async function liveUser(q: Queryable, id: string) {
  const user = await liveUserById(q).get({ id })
  if (!user) throw notFound('User')
  return user
}

export const toProfile = (user: UserRow, { dataKeys, fileUrl }: { dataKeys: DataKey[]; fileUrl: FileUrl }): ProfileDto => ({
  id: user.id,
  email: user.email,
  name: user.name,
  roles: user.roles,
  address: user.addressSealed ? openAddress(user.addressSealed, dataKeys) : null,
  photo_url: user.photoKey ? fileUrl(photoPath(user.photoKey)) : null,
  created_at: user.createdAt,
})

/** The account as an admin sees it: the profile, and whether it is disabled. */
export const toAdminUser = (user: UserRow, deps: { dataKeys: DataKey[]; fileUrl: FileUrl }): AdminUserDto => ({ ...toProfile(user, deps), disabled: user.disabledAt !== null })
