import { and, asc, eq, gt, isNull, sql } from 'drizzle-orm'
import { prepared, type Database, type Queryable, type Tx } from '../../db/client'
import { isUniqueViolation } from '../../db/errors'
import type { Clock } from '../../lib/clock'
import { randomToken, sha256Hex, type DataKey } from '../../lib/crypto'
import { AppError, conflict, notFound, unauthorized } from '../../lib/errors'
import { newId } from '../../lib/ids'
import { DEFAULT_PAGE_SIZE, cursorAfter, isStringKey, pageOf } from '../../lib/pages'
import { checkAddress, openAddress, sealAddress } from './address'
import { processPhoto } from '../../lib/images'
import type { FileStore } from '../../infra/storage'
import { ACCESS_TOKEN_TTL_SECONDS, type AccessTokens, type Role } from '../../lib/access-tokens'
import type { AddressInput, ProfileDto } from './model'
import { refreshTokens, sessions, users } from './schema'

const REFRESH_TOKEN_TTL_MS = 30 * 24 * 3600 * 1000

const live = and(eq(users.id, sql.placeholder('id')), isNull(users.deletedAt))
const liveUserById = prepared((q) => q.select().from(users).where(live).prepare())
const liveContact = prepared((q) => q.select({ name: users.name, addressSealed: users.addressSealed }).from(users).where(live).prepare())
const liveRoles = prepared((q) => q.select({ roles: users.roles }).from(users).where(live).prepare())
const invalidCredentials = () => new AppError(401, 'invalid_credentials', 'Email or password is wrong')

export interface PasswordHashing {
  hash(password: string): Promise<string>
  verify(password: string, hash: string): Promise<boolean>
}

/** argon2id with Bun's defaults (64 MiB, t=2); tests may pass cheaper parameters. */
export const argon2id = (memoryCost?: number, timeCost?: number): PasswordHashing => ({
  hash: (password) => Bun.password.hash(password, { algorithm: 'argon2id', ...(memoryCost ? { memoryCost, timeCost } : {}) }),
  verify: (password, hash) => Bun.password.verify(password, hash),
})

/** Runs inside the erasing transaction so other modules drop personal data they copied (orders). */
export type Eraser = (tx: Tx, userId: string) => Promise<void>

export interface AccountsDeps {
  database: Database
  tokens: AccessTokens
  clock: Clock
  passwords: PasswordHashing
  dataKeys: DataKey[]
  files: FileStore
  /** Where an erased account's still-unexpired access tokens are refused. */
  revoked?: { revoke(userId: string): Promise<void> }
  erasers?: Eraser[]
}

type UserRow = typeof users.$inferSelect

export const photoUrl = (key: string) => `/v1/photos/${key}`

export class AccountsService {
  private dummyHash?: Promise<string>

  constructor(private readonly deps: AccountsDeps) {}

  toProfile(user: UserRow): ProfileDto {
    return {
      id: user.id,
      email: user.email,
      name: user.name,
      roles: user.roles,
      address: user.addressSealed ? openAddress(user.addressSealed, this.deps.dataKeys) : null,
      photo_url: user.photoKey ? photoUrl(user.photoKey) : null,
      created_at: user.createdAt,
    }
  }

  private async liveUser(id: string) {
    const user = await liveUserById(this.deps.database.db).get({ id })
    if (!user) throw notFound('User')
    return user
  }

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

  private async issueSession(tx: Tx, userId: string) {
    const sessionId = newId()
    await tx.insert(sessions).values({ id: sessionId, userId, createdAt: this.deps.clock.iso() })
    return { sessionId, refreshToken: await this.issueRefreshToken(tx, sessionId) }
  }

  private async issueRefreshToken(tx: Tx, sessionId: string) {
    const refreshToken = randomToken(32)
    await tx.insert(refreshTokens).values({
      id: newId(),
      sessionId,
      tokenHash: sha256Hex(refreshToken),
      expiresAt: this.deps.clock.now() + REFRESH_TOKEN_TTL_MS,
      createdAt: this.deps.clock.iso(),
    })
    return refreshToken
  }

  private async authResult(user: UserRow, sessionId: string, refreshToken: string) {
    return {
      user: this.toProfile(user),
      access_token: await this.deps.tokens.sign({ id: user.id, roles: user.roles, sid: sessionId }),
      refresh_token: refreshToken,
      token_type: 'Bearer' as const,
      expires_in: ACCESS_TOKEN_TTL_SECONDS,
    }
  }

  async register(input: { email: string; name: string; password: string }, roles: Role[] = ['customer']) {
    const passwordHash = await this.deps.passwords.hash(input.password)
    const now = this.deps.clock.iso()
    const user: UserRow = {
      id: newId(),
      email: input.email.trim().toLowerCase(),
      name: input.name.trim(),
      passwordHash,
      roles,
      addressSealed: null,
      photoKey: null,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
    }
    try {
      const { sessionId, refreshToken } = await this.deps.database.write(async (tx) => {
        await tx.insert(users).values(user)
        return this.issueSession(tx, user.id)
      })
      return this.authResult(user, sessionId, refreshToken)
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError(409, 'email_taken', 'An account with this email already exists')
      throw error
    }
  }

  async login(input: { email: string; password: string }) {
    const user = await this.deps.database.db.select().from(users).where(and(eq(users.email, input.email.trim().toLowerCase()), isNull(users.deletedAt))).get()
    // An unknown email still costs one hash verification, so timing does not reveal accounts.
    this.dummyHash ??= this.deps.passwords.hash(randomToken(16))
    const ok = await this.deps.passwords.verify(input.password, user?.passwordHash ?? (await this.dummyHash))
    if (!user?.passwordHash || !ok) throw invalidCredentials()
    const { sessionId, refreshToken } = await this.deps.database.write((tx) => this.issueSession(tx, user.id))
    return this.authResult(user, sessionId, refreshToken)
  }

  async refresh(presented: string) {
    const tokenHash = sha256Hex(presented)
    const nowMs = this.deps.clock.now()
    const outcome = await this.deps.database.write(async (tx) => {
      const row = await tx
        .select({ token: refreshTokens, session: sessions })
        .from(refreshTokens)
        .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
        .where(eq(refreshTokens.tokenHash, tokenHash))
        .get()
      if (!row || row.session.revokedAt || row.token.expiresAt <= nowMs) return null
      if (row.token.usedAt) {
        // A rotated token came back: someone holds a copy. End the whole session.
        await tx.update(sessions).set({ revokedAt: this.deps.clock.iso() }).where(eq(sessions.id, row.session.id))
        return null
      }
      await tx.update(refreshTokens).set({ usedAt: this.deps.clock.iso() }).where(eq(refreshTokens.id, row.token.id))
      const user = await liveUserById(tx).get({ id: row.session.userId })
      if (!user) return null
      return { user, sessionId: row.session.id, refreshToken: await this.issueRefreshToken(tx, row.session.id) }
    })
    if (!outcome) throw unauthorized('The refresh token is invalid, expired or already used')
    return this.authResult(outcome.user, outcome.sessionId, outcome.refreshToken)
  }

  /** Ends the session of `presented` if it belongs to `userId`; says nothing either way. */
  async logout(userId: string, presented: string) {
    const tokenHash = sha256Hex(presented)
    await this.deps.database.write(async (tx) => {
      const row = await tx
        .select({ sessionId: sessions.id, userId: sessions.userId })
        .from(refreshTokens)
        .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
        .where(eq(refreshTokens.tokenHash, tokenHash))
        .get()
      if (row?.userId === userId) await tx.update(sessions).set({ revokedAt: this.deps.clock.iso() }).where(eq(sessions.id, row.sessionId))
    })
  }

  async me(userId: string) {
    return this.toProfile(await this.liveUser(userId))
  }

  async updateMe(userId: string, patch: { name?: string; address?: AddressInput }) {
    const set: Partial<UserRow> = { updatedAt: this.deps.clock.iso() }
    if (patch.name !== undefined) set.name = patch.name.trim()
    if (patch.address) set.addressSealed = sealAddress(checkAddress(patch.address, 'address'), this.deps.dataKeys)
    const user = await this.deps.database.write(async (tx) =>
      tx.update(users).set(set).where(and(eq(users.id, userId), isNull(users.deletedAt))).returning().get(),
    )
    if (!user) throw notFound('User')
    return this.toProfile(user)
  }

  private async checkPassword(userId: string, password: string) {
    const user = await this.liveUser(userId)
    if (!user.passwordHash || !(await this.deps.passwords.verify(password, user.passwordHash))) throw invalidCredentials()
    return user
  }

  /** Changes the password and ends every other session (the caller's stays signed in). */
  async changePassword(userId: string, currentSessionId: string | undefined, current: string, next: string) {
    await this.checkPassword(userId, current)
    const passwordHash = await this.deps.passwords.hash(next)
    const now = this.deps.clock.iso()
    await this.deps.database.write(async (tx) => {
      await tx.update(users).set({ passwordHash, updatedAt: now }).where(eq(users.id, userId))
      const others = await tx.select({ id: sessions.id }).from(sessions).where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)))
      for (const { id } of others) if (id !== currentSessionId) await tx.update(sessions).set({ revokedAt: now }).where(eq(sessions.id, id))
    })
  }

  /** Erases personal data and ends every session; orders stay, without the personal data. */
  async deleteMe(userId: string, password: string) {
    const user = await this.checkPassword(userId, password)
    const now = this.deps.clock.iso()
    await this.deps.database.write(async (tx) => {
      await tx
        .update(users)
        .set({ email: null, name: '', passwordHash: null, addressSealed: null, photoKey: null, deletedAt: now, updatedAt: now })
        .where(eq(users.id, userId))
      await tx.update(sessions).set({ revokedAt: now }).where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)))
      for (const erase of this.deps.erasers ?? []) await erase(tx, userId)
    })
    await this.deps.revoked?.revoke(userId)
    if (user.photoKey) await this.deps.files.delete(user.photoKey)
  }

  async setPhoto(userId: string, upload: File) {
    const bytes = await processPhoto(new Uint8Array(await upload.arrayBuffer()))
    const key = `${crypto.randomUUID()}.webp`
    await this.deps.files.put(key, bytes, 'image/webp')
    const previous = await this.liveUser(userId)
    await this.deps.database.write((tx) => tx.update(users).set({ photoKey: key, updatedAt: this.deps.clock.iso() }).where(eq(users.id, userId)))
    if (previous.photoKey) await this.deps.files.delete(previous.photoKey)
    return { photo_url: photoUrl(key) }
  }

  async deletePhoto(userId: string) {
    const user = await this.liveUser(userId)
    if (!user.photoKey) return
    await this.deps.database.write((tx) => tx.update(users).set({ photoKey: null, updatedAt: this.deps.clock.iso() }).where(eq(users.id, userId)))
    await this.deps.files.delete(user.photoKey)
  }

  async photo(key: string) {
    const bytes = await this.deps.files.get(key)
    if (!bytes) throw notFound('Photo')
    return bytes
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
    return pageOf(rows, limit, (u) => u.id, (u) => this.toProfile(u))
  }

  /** Sets roles; the last admin cannot drop `admin`, or nobody could manage the shop any more. */
  async setRoles(userId: string, roles: Role[]) {
    const user = await this.deps.database.write(async (tx) => {
      const current = await tx.select({ roles: users.roles }).from(users).where(and(eq(users.id, userId), isNull(users.deletedAt))).get()
      if (!current) return undefined
      if (current.roles.includes('admin') && !roles.includes('admin')) {
        const admins = await tx.select({ id: users.id }).from(users).where(and(isNull(users.deletedAt), sql`EXISTS (SELECT 1 FROM json_each(${users.roles}) WHERE value = 'admin')`)).limit(2)
        if (admins.length < 2) throw conflict('The last admin cannot give up the admin role')
      }
      return tx.update(users).set({ roles, updatedAt: this.deps.clock.iso() }).where(eq(users.id, userId)).returning().get()
    })
    if (!user) throw notFound('User')
    return this.toProfile(user)
  }

  /** Start-up: make sure the configured admin exists and holds both roles (its password is only set on creation). */
  async ensureAdmin(email: string, password: string) {
    const existing = await this.deps.database.db.select().from(users).where(and(eq(users.email, email.toLowerCase()), isNull(users.deletedAt))).get()
    if (!existing) {
      await this.register({ email, name: 'Admin', password }, ['admin', 'customer'])
      return
    }
    if (!existing.roles.includes('admin') || !existing.roles.includes('customer')) await this.setRoles(existing.id, ['admin', 'customer'])
  }
}
