// WORKERS=2 as an operator runs it (`bun src/main.ts`, production mode, the real Redis under a
// key prefix of its own, one libSQL file): a 2,000-entry flash-sale stampede and a checkout
// burst over real HTTP must keep every invariant (the bench's, and the money invariant); /metrics must count the whole instance; a
// killed worker comes back; SIGTERM drains every worker.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { inArray } from 'drizzle-orm'
import * as checkout from '../bench/checkout'
import { openFixtures, type Fixtures } from '../bench/lib/fixtures'
import { moneyViolations } from '../bench/lib/money'
import { runScript } from '../bench/lib/runner'
import type { Target } from '../bench/lib/target'
import { users } from '../src/modules/accounts/schema'
import { eventually } from './support/eventually'
import { testRedis } from './support/redis'
import { productionEnv, scratchDir, serverProcess } from './support/server-process'
import { expectStampedeHeld, stampedeScript } from './support/stampede'

const CUSTOMERS = 2000
const UNITS = 100
const METRICS_TOKEN = 'workers-test-scrape-token'

let redis: Awaited<ReturnType<typeof testRedis>>
let scratch: ReturnType<typeof scratchDir>
let server: ReturnType<typeof serverProcess>
let fixtures: Promise<Fixtures> | undefined
let target: Target

beforeAll(async () => {
  redis = await testRedis()
  scratch = scratchDir()
  const env: Record<string, string> = {
    ...productionEnv(scratch.dir),
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: redis.prefix,
    WORKERS: '2',
    RATE_LIMIT: 'off',
    METRICS_TOKEN,
    PAYMENT_CHECK_DELAY_MS: '600000',
  }
  server = serverProcess(env)
  const url = await server.url()
  target = { url, redis: true, fixtures: () => (fixtures ??= openFixtures({ databaseUrl: env.DATABASE_URL!, jwtSecret: env.JWT_SECRET! })), close: async () => {} }
}, 60_000)

afterAll(async () => {
  server.kill()
  await (await fixtures)?.close()
  await redis.cleanup()
  scratch.remove()
})

const workerLines = () => server.logLines().filter((line) => line.msg === 'worker listening')
const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** One sample of the instance's metrics: `name{labels} value` lines whose name and labels contain `match`, summed. */
async function metricSum(match: string) {
  const res = await fetch(`${target.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
  expect(res.status).toBe(200)
  const lines = (await res.text()).split('\n').filter((line) => !line.startsWith('#') && line.includes(match))
  return lines.reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0)
}

describe('WORKERS=2', () => {
  test('two workers listen on one port; worker 0 alone runs the background work', async () => {
    // Their lines are copied by the primary, and may follow its own.
    const lines = await eventually(() => {
      const found = workerLines()
      expect(found).toHaveLength(2)
      return found
    })
    expect(lines.map((line) => [line.worker, line.background])).toEqual([
      [0, true],
      [1, false],
    ])
    expect(new Set(lines.map((line) => line.pid)).size).toBe(2)
  })

  test("a checkout burst: every order paid, each ledger sums to its stock (first: the stampede leaves its winners' orders unpaid)", async () => {
    const script = { ...checkout, options: { scenarios: { checkout: { executor: 'constant-vus' as const, vus: 32, duration: '3s' } }, thresholds: { checks: ['rate==1'] } } }
    const summary = await runScript('workers-checkout', script, target)
    for (const name of ['invariant: every order is paid', 'invariant: ledger rows sum to the stock', 'invariant: stock fell by exactly what was sold']) {
      expect({ name, ...summary.checks.find((c) => c.name === name) }).toEqual({ name, passes: 1, fails: 0 })
    }
    expect(summary.metrics.orders?.values.count).toBeGreaterThan(0)
    expect(summary.errors).toEqual({})
    expect(summary.ok).toBe(true)
    // Every charge at the gateway is the paid payment of a paid order, and nothing is left payable.
    expect(await moneyViolations((await target.fixtures()).database.db)).toEqual([])
  }, 120_000)

  test('a 2,000-entry stampede keeps every invariant; one allocator decides the drop; /metrics counts every entry of the instance', async () => {
    const summary = await runScript('workers-stampede', stampedeScript(CUSTOMERS, UNITS), target)
    expectStampedeHeld(summary, CUSTOMERS, UNITS)
    expect(await moneyViolations((await target.fixtures()).database.db)).toEqual([])
    expect(server.logLines().filter((line) => line.msg === 'flash-sale allocator took a drop')).toHaveLength(1)
    // Whichever worker answers the scrape, it is the instance's total (the kernel spread the entries over both).
    for (let scrape = 0; scrape < 4; scrape++) {
      expect(await metricSum('flash_sale_entries_total{')).toBe(CUSTOMERS)
      expect(await metricSum('http_requests_total{method="POST",route="/v1/flash-sales/drops/:drop_id/entries"')).toBe(CUSTOMERS)
    }
    expect(await metricSum('shop_workers_running')).toBe(2)
  }, 120_000)

  test('a worker that dies is restarted, worker 0 with the background work; the port keeps serving', async () => {
    for (const index of [1, 0]) {
      const before = workerLines().filter((line) => line.worker === index)
      const pid = Number(before.at(-1)!.pid)
      process.kill(pid, 'SIGKILL')
      await eventually(() => expect(workerLines().filter((line) => line.worker === index)).toHaveLength(before.length + 1), 20_000)
      expect(workerLines().at(-1)).toMatchObject({ worker: index, background: index === 0 })
      expect(alive(pid)).toBe(false)
    }
    expect(
      server
        .logLines()
        .filter((line) => line.msg === 'worker exited; restarting it')
        .map((line) => [line.worker, line.signal]),
    ).toEqual([
      [1, 'SIGKILL'],
      [0, 'SIGKILL'],
    ])
    expect((await fetch(`${target.url}/health`)).status).toBe(200)
    expect(await metricSum('shop_worker_restarts_total')).toBe(2)
  }, 60_000)

  test('SIGTERM reaches every worker: requests in flight are answered, none is half done, each worker stops, the primary exits 0', async () => {
    const pids = workerLines()
      .slice(-2)
      .map((line) => Number(line.pid))
    let signalled = false
    const answered: { email: string; status: number; afterSignal: boolean }[] = []
    const failed: string[] = []
    let sent = 0
    // Registration hashes with argon2id (~0.1 s each): requests in flight when the signal lands.
    // Each client sends until the workers stop taking requests.
    const client = async () => {
      while (sent < 200) {
        const email = `drain${++sent}@example.com`
        try {
          const res = await fetch(`${target.url}/v1/auth/register`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email, name: 'Drain', password: 'drain password' }),
            signal: AbortSignal.timeout(20_000),
          })
          answered.push({ email, status: res.status, afterSignal: signalled })
        } catch {
          failed.push(email)
          return
        }
      }
    }
    const clients = Array.from({ length: 6 }, client)
    while (answered.length < 6) await Bun.sleep(10)
    server.kill('SIGTERM')
    signalled = true
    await Promise.all(clients)
    expect(await server.exited()).toBe(0)
    expect(answered.every((a) => a.status === 201)).toBe(true)
    expect(answered.some((a) => a.afterSignal)).toBe(true)
    // A request that got no answer (refused, or reset in a closing socket's backlog) was not acted on either.
    const { database } = await target.fixtures()
    const stored = async (emails: string[]) => (await database.db.select({ email: users.email }).from(users).where(inArray(users.email, emails))).map((r) => r.email).sort()
    expect(await stored(answered.map((a) => a.email))).toEqual(answered.map((a) => a.email).sort())
    expect(await stored(failed)).toEqual([])
    const stopped = server.logLines().filter((line) => line.msg === 'stopped')
    expect(stopped.map((line) => String(line.worker ?? 'primary')).sort()).toEqual(['0', '1', 'primary'])
    for (const pid of pids) expect(alive(pid)).toBe(false)
  }, 60_000)
})
