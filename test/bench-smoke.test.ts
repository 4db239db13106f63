// The flash-sale bench scenario, small: a few hundred customers stampede one drop of a real
// shop process (production mode, its own libSQL file), in-process and on the real Redis, and
// the bench's invariant checks must all hold. An invariant test, not a timing test. Then the
// checks are shown to catch a broken invariant, and the runner's thresholds to fail a run.
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as flashSale from '../bench/flash-sale'
import { runScript, type Script } from '../bench/lib/runner'
import { ownTarget, type Target } from '../bench/lib/target'
import { MetricStore, setActiveStore } from '../bench/lib/metrics'
import { api } from '../bench/lib/shop'
import http from '../bench/lib/http'
import { renderReport } from '../bench/lib/report'
import type { Summary } from '../bench/lib/summary'
import { chartsIn } from './support/chromium'
import { testRedis } from './support/redis'
import { expectStampedeHeld, STAMPEDE_INVARIANTS, stampedeScript } from './support/stampede'
import { eq } from 'drizzle-orm'
import { payments } from '../src/modules/payments/schema'

const CUSTOMERS = 300
const UNITS = 20
const out = mkdtempSync(join(tmpdir(), 'bench-smoke-'))
afterAll(() => rmSync(out, { recursive: true, force: true }))

async function stampede(redis?: { url: string; prefix: string }) {
  const target = await ownTarget(out, redis)
  const kept: { drop?: flashSale.DropData } = {}
  try {
    const summary = await runScript('flash-sale-smoke', stampedeScript(CUSTOMERS, UNITS, kept), target)
    return { summary, target, drop: kept.drop! }
  } catch (error) {
    await target.close()
    throw error
  }
}

/** The in-process run's summary, for the report test below. */
let smoke: Summary | undefined

describe('flash-sale scenario, smoke size', () => {
  test('in-process: every invariant holds, and a tampered stock or payment is caught', async () => {
    const { summary, target, drop } = await stampede()
    try {
      expectStampedeHeld(summary, CUSTOMERS, UNITS)
      smoke = summary
      // One unit vanishes behind the sale's back (an admin adjustment): the ledger still sums, the sale no longer does.
      await api('POST', `${drop.base}/v1/products/${drop.productId}/stock`, drop.admin, { delta: -1, reason: 'bench smoke: tampering' })
      // And a winner's paid payment is marked failed in our books while the gateway holds its capture.
      const { database } = await target.fixtures()
      const paid = (await database.db.select().from(payments).where(eq(payments.status, 'paid')).limit(1))[0]!
      await database.write((tx) => tx.update(payments).set({ status: 'failed' }).where(eq(payments.id, paid.id)))
      const store = new MetricStore()
      setActiveStore(store)
      try {
        await flashSale.checkDrop(drop, target)
      } finally {
        setActiveStore(undefined)
      }
      expect(store.values('checks', { check: 'invariant: stock fell by exactly what was sold' })).toMatchObject({ passes: 0, fails: 1 })
      expect(store.values('checks', { check: 'invariant: ledger rows sum to the stock' })).toMatchObject({ passes: 1, fails: 0 })
      expect(store.values('checks', { check: STAMPEDE_INVARIANTS.at(-1)! })).toMatchObject({ passes: 0, fails: 1 })
    } finally {
      await target.close()
    }
  }, 90_000)

  test('on the real Redis: every invariant holds', async () => {
    const redis = await testRedis()
    try {
      const { summary, target } = await stampede(redis)
      await target.close()
      expectStampedeHeld(summary, CUSTOMERS, UNITS)
    } finally {
      await redis.cleanup()
    }
  }, 90_000)
})

describe('the report (bench/report.html)', () => {
  test('built from the smoke run, it renders in headless Chromium with no network: every chart drawn with each of its data points', async () => {
    expect(smoke).toBeDefined()
    const timeline = smoke!.timeline
    // The stampede's own timeline: every entry let in (units + the default waitlist), every winner decided.
    expect(timeline.marks['entries accepted']).toHaveLength(2 * UNITS)
    expect(timeline.marks['winners decided']).toHaveLength(UNITS)
    expect(timeline.rps.reduce((sum, rps) => sum + rps * timeline.bucket_s, 0)).toBeCloseTo(smoke!.http.requests, 0)
    const file = join(out, 'report.html')
    writeFileSync(file, renderReport({ scenarios: { 'flash-sale': smoke! } }))
    const statuses = Object.keys(timeline.by_status).length
    const points = (values: (number | null)[]) => values.filter((v) => v !== null).length
    expect(await chartsIn(file)).toEqual({
      offline: [],
      errors: [],
      charts: [
        { id: 'flash-sale:rps', declared: timeline.t.length, drawn: timeline.t.length, lines: 1 },
        { id: 'flash-sale:latency', declared: points(timeline.p50) + points(timeline.p99), drawn: points(timeline.p50) + points(timeline.p99), lines: 2 },
        { id: 'flash-sale:status', declared: statuses * timeline.t.length, drawn: statuses * timeline.t.length, lines: statuses },
        { id: 'flash-sale:stampede', declared: 3 * UNITS, drawn: 3 * UNITS, lines: 2 },
      ],
    })
  }, 60_000)
})

describe('the runner', () => {
  test('a threshold that is not met fails the run', async () => {
    const target: Target = { url: 'http://127.0.0.1:9', redis: false, fixtures: () => Promise.reject(new Error('none')), close: async () => {} }
    const script: Script = {
      options: {
        scenarios: { once: { executor: 'constant-arrival-rate', rate: 5, timeUnit: '1s', duration: '1s', preAllocatedVUs: 5 } },
        thresholds: { iterations: ['count>=5'], http_req_failed: ['rate<0.5'] },
      },
      // Nothing listens on port 9: every request fails.
      default: () => http.get(target.url),
    }
    const summary = await runScript('failing', script, target)
    expect(summary.thresholds).toEqual([
      { metric: 'iterations', expression: 'count>=5', actual: 5, ok: true },
      { metric: 'http_req_failed', expression: 'rate<0.5', actual: 1, ok: false },
    ])
    expect(summary.http.by_status).toEqual({ '0': 5 })
    expect(summary.ok).toBe(false)
  })
})
