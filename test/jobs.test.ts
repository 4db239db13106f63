import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eq } from 'drizzle-orm'
import { Registry } from 'prom-client'
import { openDatabase, type Database } from '../src/db/client'
import { ManualClock } from '../src/lib/clock'
import { createLogger } from '../src/lib/logger'
import { newId } from '../src/lib/ids'
import { JobQueue, scheduleJobs, type JobQueueOptions } from '../src/modules/jobs/queue'
import { jobs } from '../src/modules/jobs/schema'

let dir: string
let database: Database
let databaseUrl: string
const clock = new ManualClock()
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shop-jobs-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))
// A database per test: what one test leaves due must not run in another's count.
beforeEach(async () => {
  databaseUrl = `file:${join(dir, `${newId()}.db`)}`
  database = await openDatabase({ url: databaseUrl })
})
afterEach(() => database.close())

const queue = (options: Partial<JobQueueOptions> = {}) => new JobQueue({ database, clock, logger: createLogger('silent'), ...options })
const schedule = (kind: string, inMs: number, payload: Record<string, unknown> = {}, dedupeKey?: string) =>
  database.write((tx) => scheduleJobs(tx, [{ kind, payload, runAt: clock.now() + inMs, dedupeKey }], clock.iso()))
const rowsOf = (kind: string) => database.db.select().from(jobs).where(eq(jobs.kind, kind))

describe('job queue', () => {
  test('a job runs once it is due, with its payload, and is then done', async () => {
    const kind = `k-${newId()}`
    const seen: unknown[] = []
    const q = queue()
    q.register(kind, async (payload) => void seen.push(payload))
    await schedule(kind, 60_000, { order_id: 'o1' })
    expect(await q.runDue()).toBe(0)
    clock.advance(60_000)
    expect(await q.runDue()).toBe(1)
    expect(await q.runDue()).toBe(0)
    expect(seen).toEqual([{ order_id: 'o1' }])
    expect((await rowsOf(kind))[0]).toMatchObject({ attempts: 1, doneAt: expect.any(String), leaseOwner: null })
  })

  test('one dedupe key, one job', async () => {
    const kind = `k-${newId()}`
    const key = newId()
    await schedule(kind, 0, {}, key)
    await schedule(kind, 0, {}, key)
    expect(await rowsOf(kind)).toHaveLength(1)
  })

  test('two instances polling at once never run one job twice', async () => {
    const kind = `k-${newId()}`
    const runs = new Map<string, number>()
    const instances = [queue({ owner: 'a', batchSize: 3 }), queue({ owner: 'b', batchSize: 3 })]
    for (const q of instances) q.register(kind, async ({ n }) => void runs.set(String(n), (runs.get(String(n)) ?? 0) + 1))
    for (let n = 0; n < 60; n++) await schedule(kind, 0, { n })
    await Promise.all(Array.from({ length: 10 }, (_, i) => instances[i % 2]!.runDue()))
    expect(runs.size).toBe(60)
    expect([...runs.values()].every((count) => count === 1)).toBe(true)
    expect(new Set((await rowsOf(kind)).map((r) => r.attempts))).toEqual(new Set([1]))
  })

  test('two processes on one database file never run one job twice', async () => {
    const kind = `k-${newId()}`
    for (let n = 0; n < 300; n++) await schedule(kind, 0, { n })
    const runsFile = join(dir, `${kind}.runs`)
    const workers = ['p1', 'p2'].map((owner) =>
      Bun.spawn(['bun', 'test/support/job-process.ts'], {
        env: { ...process.env, DATABASE_URL: databaseUrl, OWNER: owner, KIND: kind, RUNS_FILE: runsFile, NOW_MS: String(clock.now()) },
        stderr: 'inherit',
      }),
    )
    expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0])
    const runs = readFileSync(runsFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(' '))
    expect(runs.map(([, n]) => Number(n)).sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, n) => n))
    // Both took part, so the claims really raced.
    expect(new Set(runs.map(([owner]) => owner))).toEqual(new Set(['p1', 'p2']))
  }, 60_000)

  test('a job leased by an instance that died runs elsewhere once the lease runs out', async () => {
    const kind = `k-${newId()}`
    await schedule(kind, 0)
    await database.write((tx) =>
      tx
        .update(jobs)
        .set({ leaseOwner: 'dead', leaseUntil: clock.now() + 60_000, attempts: 1 })
        .where(eq(jobs.kind, kind)),
    )
    let ran = 0
    const q = queue({ owner: 'alive' })
    q.register(kind, async () => void ran++)
    expect(await q.runDue()).toBe(0)
    clock.advance(60_000)
    expect(await q.runDue()).toBe(1)
    expect(ran).toBe(1)
    expect((await rowsOf(kind))[0]).toMatchObject({ attempts: 2, doneAt: expect.any(String) })
  })

  test('a failing job is retried later with backoff and stops when its attempts run out', async () => {
    const kind = `k-${newId()}`
    let calls = 0
    const q = queue({ maxAttempts: 3 })
    q.register(kind, async () => {
      calls++
      throw new Error('gateway down')
    })
    await schedule(kind, 0)
    expect(await q.runDue()).toBe(1)
    expect(await q.runDue()).toBe(0)
    expect((await rowsOf(kind))[0]).toMatchObject({ attempts: 1, lastError: 'Error: gateway down', failedAt: null, doneAt: null })
    for (let i = 0; i < 5; i++) {
      clock.advance(10 * 60_000)
      await q.runDue()
    }
    expect(calls).toBe(3)
    expect((await rowsOf(kind))[0]).toMatchObject({ attempts: 3, failedAt: expect.any(String), doneAt: null })
  })

  test('a job of a kind nobody handles is kept and reported, not lost', async () => {
    const kind = `k-${newId()}`
    await schedule(kind, 0)
    await queue().runDue()
    expect((await rowsOf(kind))[0]).toMatchObject({ lastError: `Error: No handler for job kind ${kind}`, doneAt: null })
  })

  test('the backlog gauge counts due, scheduled and failed jobs', async () => {
    const registry = new Registry()
    queue({ metrics: registry })
    const failing = `k-${newId()}`
    await schedule(failing, 0)
    await queue({ maxAttempts: 1 }).runDue()
    await schedule(`k-${newId()}`, 0)
    await schedule(`k-${newId()}`, -1)
    await schedule(`k-${newId()}`, 3600_000)
    const text = await registry.metrics()
    const value = (state: string) => Number(text.match(new RegExp(`shop_jobs_backlog\\{state="${state}"\\} (\\d+)`))?.[1])
    expect(value('scheduled')).toBe(1)
    expect(value('due')).toBe(2)
    expect(value('failed')).toBe(1)
  })

  test('start() runs what became due while nothing was polling; stop() waits for the pass', async () => {
    const kind = `k-${newId()}`
    await schedule(kind, 0)
    let ran = 0
    const q = queue({ pollMs: 60_000 })
    q.register(kind, async () => void ran++)
    q.start()
    await q.stop()
    expect(ran).toBe(1)
  })
})
