import { gt, or } from 'drizzle-orm'
import type { Database } from '../../db/client'
import type { EventBus } from '../../infra/events'
import type { Clock } from '../../lib/clock'
import { isoAt } from '../../lib/clock'
import { ACCESS_TOKEN_TTL_SECONDS } from '../../lib/access-tokens'
import { users } from './schema'

const CHANNEL = 'accounts.revoked'
/** An access token outlives its account by at most its own lifetime, plus clock skew. */
const REMEMBER_MS = (ACCESS_TOKEN_TTL_SECONDS + 60) * 1000

/** What the bus carries: an account whose tokens are refused from `at`, or (`restored`) no longer. */
interface Revocation {
  user_id: string
  at: number
  restored?: boolean
}

/**
 * Accounts erased or disabled in the last token lifetime. Customer routes trust a verified
 * token without SQL (the flash-sale entry must stay off the database), so such an account's
 * tokens are refused from this in-memory list instead; every instance learns of it over the
 * event bus, and a restarting one reloads recent erasures and disables from the database.
 */
export class RevokedAccounts {
  private readonly until = new Map<string, number>()
  private unsubscribe?: () => Promise<void>

  constructor(private readonly deps: { database: Database; events: EventBus; clock: Clock }) {}

  has(userId: string): boolean {
    const until = this.until.get(userId)
    if (until === undefined) return false
    if (until > this.deps.clock.now()) return true
    this.until.delete(userId)
    return false
  }

  private remember(userId: string, erasedAt: number) {
    this.until.set(userId, erasedAt + REMEMBER_MS)
  }

  /** Refuses `userId`'s access tokens here now and on every other instance as soon as the bus delivers. */
  async revoke(userId: string) {
    await this.announce({ user_id: userId, at: this.deps.clock.now() })
  }

  /** Accepts `userId`'s tokens again (a disabled account enabled again), everywhere. */
  async restore(userId: string) {
    await this.announce({ user_id: userId, at: this.deps.clock.now(), restored: true })
  }

  private async announce(revocation: Revocation) {
    this.apply(revocation)
    await this.deps.events.publish(CHANNEL, revocation)
  }

  private apply({ user_id, at, restored }: Revocation) {
    if (restored) this.until.delete(user_id)
    else this.remember(user_id, at)
  }

  async start() {
    this.unsubscribe = await this.deps.events.subscribe(CHANNEL, (message) => this.apply(message as Revocation))
    const since = isoAt(this.deps.clock.now() - REMEMBER_MS)
    const recent = await this.deps.database.db
      .select({ id: users.id, deletedAt: users.deletedAt, disabledAt: users.disabledAt })
      .from(users)
      .where(or(gt(users.deletedAt, since), gt(users.disabledAt, since)))
    for (const { id, deletedAt, disabledAt } of recent) this.remember(id, Date.parse((deletedAt ?? disabledAt)!))
  }

  async stop() {
    await this.unsubscribe?.()
  }
}
