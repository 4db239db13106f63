import { and, asc, eq, gt, isNull } from 'drizzle-orm'
import type { Queryable } from '../../db/client'
import type { Role } from '../../lib/access-tokens'
import { notFound } from '../../lib/errors'
import { DEFAULT_PAGE_SIZE, cursorAfter, isStringKey, pageOf } from '../../lib/pages'
import { StartupError } from '../../lib/startup-error'
import { passwordWeakness } from './password-policy'
import { keepAnAdmin, liveContact, liveRoles, toProfile } from './records'
import { users } from './schema'
import type { AccountsDeps } from './service'
import type { Sessions } from './sessions'

/** Accounts as the shop sees them: roles, contacts for orders, the admin's user list. */
export class Users {
  constructor(
    private readonly deps: AccountsDeps,
    private readonly sessions: Sessions,
  ) {}

  /** A live account's name and sealed address, in the caller's transaction: the defaults of a checkout (the address is copied sealed). */
  async contact(q: Queryable, id: string) {
    const row = await liveContact(q).get({ id })
    if (!row) throw notFound('User')
    return { name: row.name, addressSealed: row.addressSealed }
  }

  /** Roles as stored now: admin routes never trust the token's copy. */
  async currentRoles(userId: string): Promise<Role[] | null> {
    const row = await liveRoles(this.deps.database.db).get({ id: userId })
    return row?.roles ?? null
  }

  /** Live accounts (erased ones are gone from the list), oldest first. */
  async listUsers(limit = DEFAULT_PAGE_SIZE, cursor?: string) {
    const after = cursorAfter(cursor, isStringKey)
    const rows = await this.deps.database.db
      .select()
      .from(users)
      .where(and(isNull(users.deletedAt), after ? gt(users.id, after) : undefined))
      .orderBy(asc(users.id))
      .limit(limit + 1)
    return pageOf(rows, limit, (u) => u.id, (u) => toProfile(u, this.deps))
  }

  /** Sets roles; the last admin cannot drop `admin`, or nobody could manage the shop any more. */
  async setRoles(userId: string, roles: Role[]) {
    const user = await this.deps.database.write(async (tx) => {
      const current = await tx.select({ roles: users.roles }).from(users).where(and(eq(users.id, userId), isNull(users.deletedAt))).get()
      if (!current) return undefined
      if (!roles.includes('admin')) await keepAnAdmin(tx, current, 'give up the admin role')
      return tx.update(users).set({ roles, updatedAt: this.deps.clock.iso() }).where(eq(users.id, userId)).returning().get()
    })
    if (!user) throw notFound('User')
    return toProfile(user, this.deps)
  }

  /** Start-up: make sure the configured admin exists and holds both roles (its password is only set on creation). */
  async ensureAdmin(email: string, password: string) {
    const existing = await this.deps.database.db.select().from(users).where(and(eq(users.email, email.toLowerCase()), isNull(users.deletedAt))).get()
    if (!existing) {
      const weakness = passwordWeakness(password, email)
      if (weakness) throw new StartupError([{ setting: 'ADMIN_PASSWORD', problem: `${weakness} (the password policy applies to the admin too)` }])
      await this.sessions.register({ email, name: 'Admin', password }, ['admin', 'customer'])
      return
    }
    if (!existing.roles.includes('admin') || !existing.roles.includes('customer')) await this.setRoles(existing.id, ['admin', 'customer'])
  }
}
