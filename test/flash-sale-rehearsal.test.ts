// Before a drop opens, the allocator rehearses an allocation (rolled back) so the stampede's
// first batch runs warm code: once a process, and only on a local database file.
import { afterEach, expect, test } from 'bun:test'
import type { Database } from '../src/db/client'
import { Allocator } from '../src/modules/flash-sale/allocator'
import { createLogger } from '../src/lib/logger'
import { startShop, type TestShop } from './support/harness'
import { createDrop, until } from './support/flash-sale'

let s: TestShop
afterEach(() => s.close())

/** Writes an allocator makes while it takes `drops` drops that open in 3 s: one claim each, plus its rehearsals. */
async function writesTakingDrops(drops: number, remote = false) {
  s = await startShop({ env: { FLASH_SALE_ALLOCATOR: 'off' } })
  const database: Database = remote ? { ...s.database, local: false } : s.database
  const opening = s.deps.clock.now() + 3000
  for (let i = 0; i < drops; i++) await createDrop(s, { startsAt: opening })
  await s.shop.services.flashSale.scheduler.tick()
  let writes = 0
  const taken = new Set<string>()
  const logger = { ...createLogger('silent'), info: (msg: string, fields?: Record<string, unknown>) => void (msg === 'flash-sale allocator took a drop' && taken.add(String(fields?.drop_id))) }
  const counting: Database = { ...database, write: (fn) => (writes++, database.write(fn)) }
  const allocator = new Allocator({ database: counting, queue: s.shop.services.flashSale.queue, orders: s.shop.services.orderLifecycle, clock: s.deps.clock, logger })
  allocator.start()
  try {
    await until(`the allocator took ${drops} drops`, async () => taken.size === drops)
  } finally {
    await allocator.stop()
  }
  return writes
}

test('two drops taken before they open: one rehearsal for the process, not one a drop', async () => {
  expect(await writesTakingDrops(2)).toBe(2 + 1)
})

test('on a remote database (libsql://) there is no rehearsal', async () => {
  expect(await writesTakingDrops(1, true)).toBe(1)
})
