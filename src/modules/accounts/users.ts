import { and, asc, eq, gt, isNull, or, sql } from 'drizzle-orm'
import type { Queryable } from '../../db/client'
import type { Role } from '../../lib/access-tokens'
import { notFound } from '../../lib/errors'
import { DEFAULT_PAGE_SIZE, cursorAfter, isStringKey, pageOf } from '../../lib/pages'
import { StartupError } from '../../lib/startup-error'
import { containsIgnoringCase } from '../../lib/text'
import type { PatchUserInput, UsersQueryInput } from './model'
import { passwordWeakness } from './password-policy'
import { keepAnAdmin, liveContactsIn, liveRoles, toAdminUser } from './records'
import { sessions, users } from './schema'
import type { AccountsDeps } from './service'
import type { Sessions } from './sessions'

/** Name or email contains `q`, in any letter case. */
function nameOrEmailContains(q: string) {
  const pattern = containsIgnoringCase(q.trim())
  return or(sql`${users.name} GLOB ${pattern}`, sql`${users.email} GLOB ${pattern}`)
}

const holdsRole = (role: Role) => sql`EXISTS (SELECT 1 FROM json_each(${users.roles}) WHERE value = ${role})`

/** Accounts as the shop sees them: roles, contacts for orders, the admin's user list. */
export class Users {
  constructor(
    private readonly deps: AccountsDeps,
    private readonly sessions: Sessions,
  ) {}

  /** Live accounts' names and sealed addresses by id, in the caller's transaction: the defaults of a batch of checkouts (the address is copied sealed); an erased account is missing. */
  async contacts(q: Queryable, ids: string[]) {
    const rows = ids.length ? await liveContactsIn(q).all({ ids: JSON.stringify(ids) }) : []
    return new Map(rows.map((row) => [row.id, { name: row.name, addressSealed: row.addressSealed }]))
  }

  /** Roles as stored now: admin routes never trust the token's copy. */
  async currentRoles(userId: string): Promise<Role[] | null> {
    const row = await liveRoles(this.deps.database.db).get({ id: userId })
    return row?.roles ?? null
  }

  /** Live accounts (erased ones are gone from the list), oldest first; `q` searches name and email, `role` keeps holders of it. */
  async listUsers({ limit = DEFAULT_PAGE_SIZE, cursor, q, role }: UsersQueryInput) {
    const after = cursorAfter(cursor, isStringKey)
    const rows = await this.deps.database.db
      .select()
      .from(users)
      .where(and(isNull(users.deletedAt), q ? nameOrEmailContains(q) : undefined, role ? holdsRole(role) : undefined, after ? gt(users.id, after) : undefined))
      .orderBy(asc(users.id))
      .limit(limit + 1)
    return pageOf(
      rows,
      limit,
      (u) => u.id,
      (u) => toAdminUser(u, this.deps),
    )
  }

  /**
   * Sets roles and whether the account is disabled. The last enabled admin can neither drop
   * `admin` nor be disabled (409). Disabling ends every session and refuses the account's access
   * tokens on every instance at once; enabling lets it sign in again.
   */
  async update(userId: string, patch: PatchUserInput) {
    const now = this.deps.clock.iso()
    const { user, before } = await this.deps.database.write(async (tx) => {
      const current = await tx
        .select()
        .from(users)
        .where(and(eq(users.id, userId), isNull(users.deletedAt)))
        .get()
      if (!current) throw notFound('User')
      const roles = patch.roles ?? current.roles
      const disabledAt = patch.disabled === undefined ? current.disabledAt : patch.disabled ? (current.disabledAt ?? now) : null
      if (!roles.includes('admin')) await keepAnAdmin(tx, current, 'give up the admin role')
      if (disabledAt) await keepAnAdmin(tx, current, 'be disabled')
      if (disabledAt && !current.disabledAt)
        await tx
          .update(sessions)
          .set({ revokedAt: now })
          .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)))
      const user = await tx.update(users).set({ roles, disabledAt, updatedAt: now }).where(eq(users.id, userId)).returning().get()
      return { user: user!, before: current }
    })
    if (user.disabledAt && !before.disabledAt) await this.deps.revoked?.revoke(userId)
    if (!user.disabledAt && before.disabledAt) await this.deps.revoked?.restore(userId)
    return toAdminUser(user, this.deps)
  }

  /** Start-up: make sure the configured admin exists and holds both roles (its password is only set on creation). */
  async ensureAdmin(email: string, password: string) {
    const existing = await this.deps.database.db
      .select()
      .from(users)
      .where(and(eq(users.email, email.toLowerCase()), isNull(users.deletedAt)))
      .get()
    if (!existing) {
      const weakness = passwordWeakness(password, email)
      if (weakness) throw new StartupError([{ setting: 'ADMIN_PASSWORD', problem: `${weakness} (the password policy applies to the admin too)` }])
      await this.sessions.register({ email, name: 'Admin', password }, ['admin', 'customer'])
      return
    }
    if (!existing.roles.includes('admin') || !existing.roles.includes('customer')) await this.update(existing.id, { roles: ['admin', 'customer'] })
  }
}
