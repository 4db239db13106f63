import { and, gt, isNotNull } from 'drizzle-orm'
import type { Database } from '../../db/client'
import type { EventBus } from '../../infra/events'
import type { Clock } from '../../lib/clock'
import { isoAt } from '../../lib/clock'
import { ACCESS_TOKEN_TTL_SECONDS } from '../../lib/access-tokens'
import { users } from './schema'

const CHANNEL = 'accounts.revoked'
/** An access token outlives its account by at most its own lifetime, plus clock skew. */
const REMEMBER_MS = (ACCESS_TOKEN_TTL_SECONDS + 60) * 1000

/**
 * Accounts erased in the last token lifetime. Customer routes trust a verified token
 * without SQL (the flash-sale entry must stay off the database), so an erased account's
 * tokens are refused from this in-memory list instead; every instance learns of an erasure
 * over the event bus, and a restarting one reloads recent erasures from the database.
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
    this.remember(userId, this.deps.clock.now())
    await this.deps.events.publish(CHANNEL, { user_id: userId, at: this.deps.clock.now() })
  }

  async start() {
    this.unsubscribe = await this.deps.events.subscribe(CHANNEL, (message) => {
      const { user_id, at } = message as { user_id: string; at: number }
      this.remember(user_id, at)
    })
    const since = isoAt(this.deps.clock.now() - REMEMBER_MS)
    const recent = await this.deps.database.db
      .select({ id: users.id, deletedAt: users.deletedAt })
      .from(users)
      .where(and(isNotNull(users.deletedAt), gt(users.deletedAt, since)))
    for (const { id, deletedAt } of recent) this.remember(id, Date.parse(deletedAt!))
  }

  async stop() {
    await this.unsubscribe?.()
  }
}
