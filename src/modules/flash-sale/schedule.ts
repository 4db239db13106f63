import { eq, ne } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { flashSaleDrops } from './schema'

export interface DropWindow {
  opensAt: number
  closesAt: number
}

/**
 * When each drop opens and closes, kept in the process so the entry hot path answers
 * `drop_not_open` without SQL. The times never change once a campaign exists, so nothing
 * goes stale: drops are remembered as they are created, loaded at start, and a drop another
 * instance created costs one lookup the first time it is asked for.
 */
export class DropSchedule {
  private readonly windows = new Map<string, DropWindow>()

  constructor(private readonly database: Database) {}

  remember(drops: ({ id: string } & DropWindow)[]) {
    for (const { id, opensAt, closesAt } of drops) this.windows.set(id, { opensAt, closesAt })
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
    const known = this.windows.get(dropId)
    if (known) return known
    const row = await this.selectDrops().where(eq(flashSaleDrops.id, dropId)).get()
    if (!row) return null
    this.remember([row])
    return row
  }

  private selectDrops() {
    const { id, opensAt, closesAt } = flashSaleDrops
    return this.database.db.select({ id, opensAt, closesAt }).from(flashSaleDrops)
  }
}
