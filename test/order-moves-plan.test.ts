import { afterAll, beforeAll, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { startShop, type TestShop } from './support/harness'
import { moveAllStatement } from '../src/modules/orders/state-machine'
import { ORDER_STATUSES } from '../src/modules/orders/schema'

let s: TestShop
beforeAll(async () => {
  s = await startShop()
})
afterAll(() => s.close())

// Not a timing: the plan. Through orders_status_idx a batch cost O(orders in a source status × batch).
test('a grouped move finds its orders by id, never by walking the status index', async () => {
  for (const to of ORDER_STATUSES.filter((status) => status !== 'pending_payment')) {
    const plan = await s.database.db.all<{ detail: string }>(sql`EXPLAIN QUERY PLAN ${moveAllStatement(to, [{ orderId: 'x', at: 'y' }])}`)
    const details = plan.map((row) => row.detail).join(' | ')
    expect(details).toContain('SEARCH orders USING INDEX sqlite_autoindex_orders_1 (id=?)')
    expect(details).not.toContain('orders_status_idx')
  }
})
