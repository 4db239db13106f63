import { eq, ne } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { flashSaleDrops, type DropStatus } from './schema'

export interface DropWindow {
  opensAt: number
  closesAt: number
  /** Its campaign was cancelled before it opened: it never takes an entry. */
  cancelled?: boolean
}

/**
 * When each drop opens and closes, kept in the process so the entry hot path answers
 * `drop_not_open` without SQL. The times never change once a campaign exists: drops are
 * remembered as they are created, loaded at start, and a drop another instance created costs
 * one lookup the first time it is asked for. A cancellation is the one change: this instance
 * marks its drops at once, another learns it when the queue refuses a drop it thought open.
 */
export class DropSchedule {
  private readonly windows = new Map<string, DropWindow>()

  constructor(private readonly database: Database) {}

  remember(drops: ({ id: string; status?: DropStatus } & DropWindow)[]) {
    for (const { id, opensAt, closesAt, status } of drops) this.windows.set(id, { opensAt, closesAt, cancelled: status === 'cancelled' })
  }

  cancel(dropIds: string[]) {
    for (const id of dropIds) {
      const window = this.windows.get(id)
      if (window) window.cancelled = true
    }
  }

  /** Every drop that has not closed yet. */
  async load() {
    this.remember(await this.selectDrops().where(ne(flashSaleDrops.status, 'closed')))
  }

  /** The window of a drop this process knows, without waiting: the entry route asks this first. */
  known(dropId: string): DropWindow | undefined {
    return this.windows.get(dropId)
  }

  async get(dropId: string): Promise<DropWindow | null> {
    return this.windows.get(dropId) ?? this.refresh(dropId)
  }

  /** The drop as SQL has it now. */
  async refresh(dropId: string): Promise<DropWindow | null> {
    const row = await this.selectDrops().where(eq(flashSaleDrops.id, dropId)).get()
    if (!row) return null
    this.remember([row])
    return this.windows.get(dropId)!
  }

  private selectDrops() {
    const { id, opensAt, closesAt, status } = flashSaleDrops
    return this.database.db.select({ id, opensAt, closesAt, status }).from(flashSaleDrops)
  }
}
