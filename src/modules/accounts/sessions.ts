import { and, eq, isNull } from 'drizzle-orm'
import type { Tx } from '../../db/client'
import { isUniqueViolation } from '../../db/errors'
import { ACCESS_TOKEN_TTL_SECONDS, STREAM_TICKET_TTL_SECONDS, type Principal, type Role } from '../../lib/access-tokens'
import { hmacToken, randomToken, sha256Hex } from '../../lib/crypto'
import { AppError, unauthorized } from '../../lib/errors'
import { newId } from '../../lib/ids'
import { checkPassword, invalidCredentials } from './passwords'
import { checkPasswordPolicy } from './password-policy'
import { liveUserById, toProfile, type UserRow } from './records'
import { refreshTokens, sessions, users } from './schema'
import type { AccountsDeps } from './service'

const REFRESH_TOKEN_TTL_MS = 30 * 24 * 3600 * 1000
/** A rotated refresh token presented again this soon (two tabs refreshing at once) gets the same successor, not a revoked session. */
export const REFRESH_OVERLAP_MS = 10_000

export const accountDisabled = () => new AppError(403, 'account_disabled', 'This account has been disabled by an administrator')

/** Signing up and in: sessions, refresh-token rotation, password changes. */
export class Sessions {
  /**
   * What an unknown email's password is verified against, so timing does not reveal accounts.
   * Made when the service starts: made on first use, the first such login took a hash longer.
   */
  private readonly dummyHash: Promise<string>

  constructor(private readonly deps: AccountsDeps) {
    this.dummyHash = deps.passwords.hash(randomToken(16))
  }

  /** Start-up step: the dummy hash is ready before the first login. */
  async prepare() {
    await this.dummyHash
  }

  private async issueSession(tx: Tx, userId: string) {
    const sessionId = newId()
    await tx.insert(sessions).values({ id: sessionId, userId, createdAt: this.deps.clock.iso() })
    return { sessionId, refreshToken: await this.issueRefreshToken(tx, sessionId) }
  }

  private async issueRefreshToken(tx: Tx, sessionId: string, refreshToken = randomToken(32)) {
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
      user: toProfile(user, this.deps),
      access_token: await this.deps.tokens.sign({ id: user.id, roles: user.roles, sid: sessionId }),
      refresh_token: refreshToken,
      token_type: 'Bearer' as const,
      expires_in: ACCESS_TOKEN_TTL_SECONDS,
    }
  }

  async register(input: { email: string; name: string; password: string }, roles: Role[] = ['customer']) {
    checkPasswordPolicy(input.password, input.email, 'password')
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
      disabledAt: null,
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
    const user = await this.deps.database.db
      .select()
      .from(users)
      .where(and(eq(users.email, input.email.trim().toLowerCase()), isNull(users.deletedAt)))
      .get()
    const ok = await this.deps.passwords.verify(input.password, user?.passwordHash ?? (await this.dummyHash))
    if (!user?.passwordHash || !ok) throw invalidCredentials()
    // Said only to whoever knows the password: the account exists, and an admin disabled it.
    if (user.disabledAt) throw accountDisabled()
    const { sessionId, refreshToken } = await this.deps.database.write((tx) => this.issueSession(tx, user.id))
    return this.authResult(user, sessionId, refreshToken)
  }

  /**
   * The refresh token `presented` is rotated to: derived from it under the data key rather than
   * drawn at random, so a repeat within the overlap gets the very same one back with nothing
   * but hashes at rest (the pair is re-issuable; a sealed copy would need a column and the key all the same).
   */
  private successorOf(presented: string) {
    return hmacToken(this.deps.dataKeys[0]!.key, `refresh-successor:${presented}`)
  }

  private async isTokenOf(tx: Tx, refreshToken: string, sessionId: string) {
    const row = await tx
      .select({ sessionId: refreshTokens.sessionId })
      .from(refreshTokens)
      .where(eq(refreshTokens.tokenHash, sha256Hex(refreshToken)))
      .get()
    return row?.sessionId === sessionId
  }

  /**
   * A new pair for a refresh token, which works once: presented again within
   * `REFRESH_OVERLAP_MS` of its rotation it answers the same new refresh token (with a new
   * access token of the same session); later, it ends the session.
   */
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
      const successor = this.successorOf(presented)
      if (row.token.usedAt) {
        const sessionId = row.session.id
        if (nowMs - Date.parse(row.token.usedAt) <= REFRESH_OVERLAP_MS && (await this.isTokenOf(tx, successor, sessionId))) {
          const user = await liveUserById(tx).get({ id: row.session.userId })
          return user && !user.disabledAt ? { user, sessionId, refreshToken: successor } : null
        }
        // A rotated token came back later: someone holds a copy. End the whole session.
        await tx.update(sessions).set({ revokedAt: this.deps.clock.iso() }).where(eq(sessions.id, sessionId))
        return null
      }
      await tx.update(refreshTokens).set({ usedAt: this.deps.clock.iso() }).where(eq(refreshTokens.id, row.token.id))
      const user = await liveUserById(tx).get({ id: row.session.userId })
      if (!user || user.disabledAt) return null
      return { user, sessionId: row.session.id, refreshToken: await this.issueRefreshToken(tx, row.session.id, successor) }
    })
    if (!outcome) throw unauthorized('The refresh token is invalid, expired or already used')
    return this.authResult(outcome.user, outcome.sessionId, outcome.refreshToken)
  }

  /** A ticket for the caller's event streams: EventSource carries it in the URL, so it is short-lived and opens nothing else. */
  async streamTicket({ id, roles }: Principal) {
    return { ticket: await this.deps.tokens.signTicket({ id, roles }), expires_in: STREAM_TICKET_TTL_SECONDS }
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

  /** Changes the password and ends every other session (the caller's stays signed in). */
  async changePassword(userId: string, currentSessionId: string | undefined, current: string, next: string) {
    const user = await checkPassword(this.deps, userId, current)
    checkPasswordPolicy(next, user.email ?? '', 'new_password')
    const passwordHash = await this.deps.passwords.hash(next)
    const now = this.deps.clock.iso()
    await this.deps.database.write(async (tx) => {
      await tx.update(users).set({ passwordHash, updatedAt: now }).where(eq(users.id, userId))
      const others = await tx
        .select({ id: sessions.id })
        .from(sessions)
        .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)))
      for (const { id } of others) if (id !== currentSessionId) await tx.update(sessions).set({ revokedAt: now }).where(eq(sessions.id, id))
    })
  }
}
