/**
 * The Black Friday stampede: CUSTOMERS customers (fast fixtures, not argon2 registration)
 * enter one drop of UNITS units within one second, then poll their result until decided.
 * Winners pay by card. After the drop closes, the business invariants (the money one
 * included) are checked from outside and the run fails if any is broken. `-e CUSTOMERS=… -e UNITS=…`
 * scale it. Before the drop, the same arrival schedule runs against the raw baseline: the
 * entry p99 is judged as a ratio to that one's.
 */
import http from './lib/http'
import { Counter, Gauge, Trend, __ENV, check, exec, sleep } from './lib/k6'
import { DEFAULT_OUT, runCli } from './lib/cli'
import { activeStore } from './lib/metrics'
import { baselineUnder, type BaselineFigures } from './lib/baseline-schedule'
import type { Options } from './lib/options'
import type { Target } from './lib/target'
import { APPROVED_CARD, SHIPPING_ADDRESS, api, bearer, catalogProducts, createProducts, createRegion } from './lib/shop'
import { verifyDrop, type DropFacts } from './lib/invariants'

export const CUSTOMERS = Number(__ENV.CUSTOMERS ?? 10_000)
export const UNITS = Number(__ENV.UNITS ?? 100)
/** How long the drop stays open: the stampede and its polling fit well inside. */
const OPEN_SECONDS = Number(__ENV.OPEN_SECONDS ?? 8)
export const options: Options = {
  discardResponseBodies: false,
  scenarios: {
    stampede: { executor: 'constant-arrival-rate', rate: CUSTOMERS, timeUnit: '1s', duration: '1s', preAllocatedVUs: CUSTOMERS },
  },
  thresholds: {
    // The entry p99 as a ratio to the raw baseline's p99 under the same arrival schedule (setup runs it).
    entry_p99_over_baseline: ['value<=3'],
    // No verdict (k6's idiom): puts the entry requests' own figures in the summary.
    'http_req_duration{name:entry}': [],
    entry_errors: ['count==0'],
    checks: ['rate==1'],
    winners_decided_after_ms: ['value<100'],
  },
}

/** Any entry answer other than accepted, repeat or sold_out. */
const entryErrors = new Counter('entry_errors')
/** From a customer's 202 to the poll that saw their result (bounded by the poll interval). */
const decisionWait = new Trend('decision_wait', true)
const decidedAfter = new Gauge('winners_decided_after_ms')
/**
 * The same from the allocation rows alone: the last winner's decided_at (its transaction's
 * start) after the units-th entry's queued_at. What the sentinel's figure adds to it is the
 * observation: the sentinel's own entry answer and poll, queued behind the stampede's.
 */
const decidedInServer = new Gauge('winners_decided_in_server_ms')
/** The raw Bun.serve baseline's p99 under the stampede's arrival schedule, and the entry p99 over it. */
const baselineP99 = new Gauge('baseline_p99_same_schedule_ms')
const entryP99OverBaseline = new Gauge('entry_p99_over_baseline')

export interface DropData extends DropFacts {
  campaignId: string
  /** The baseline under the same arrival schedule, when setup ran it. */
  baseline?: BaselineFigures
}

/**
 * When the customer holding seq == units first saw their result. Units go out in seq order
 * and a batch's results are published together, so that is when every winner was decided.
 * (Shared across VUs: this runner's VUs share memory, k6's do not.)
 */
let lastWinnerSeenAt: number | undefined

export interface DropPlan {
  customers: number
  units: number
  /** Defaults to `units`, as the contract's does. */
  waitlist?: number
  openSeconds?: number
}

/** A product, a one-drop campaign opening in a moment, and the customers; returns once the drop is open. */
export async function prepareDrop(target: Target, { customers, units, waitlist, openSeconds = OPEN_SECONDS }: DropPlan): Promise<DropData> {
  lastWinnerSeenAt = undefined
  const fixtures = await target.fixtures()
  const admin = await fixtures.admin()
  const accounts = await fixtures.customers(customers)
  const region = await createRegion(target.url, admin.token)
  const [product] = await createProducts(target.url, admin.token, catalogProducts(region.id, 1, units * 10))
  const campaign = await api('POST', `${target.url}/v1/flash-sales`, admin.token, {
    product_id: product.id,
    price: 100,
    units_per_drop: units,
    drop_count: 1,
    interval_seconds: openSeconds,
    starts_at: new Date(Date.now() + 1500).toISOString(),
    per_customer_limit: 1,
    payment_window_seconds: 3600,
    ...(waitlist === undefined ? {} : { waitlist_size: waitlist }),
  })
  const drop = campaign.drops[0]
  for (let tries = 0; ; tries++) {
    const current = await api('GET', `${target.url}/v1/flash-sales/${campaign.id}`, null)
    if (current.drops[0].status === 'open') break
    if (tries > 100) throw new Error(`drop ${drop.id} did not open: ${JSON.stringify(current.drops[0])}`)
    await sleep(0.05)
  }
  return {
    base: target.url,
    admin: admin.token,
    campaignId: campaign.id,
    dropId: drop.id,
    closesAt: Date.parse(drop.closes_at),
    productId: product.id,
    units,
    stockBefore: units * 10,
    customers: accounts,
  }
}

/** First the raw baseline under the stampede's own schedule (same run, same executor), then the drop. */
export async function setup(target: Target): Promise<DropData> {
  const baseline = await baselineUnder(options.scenarios.stampede!, DEFAULT_OUT)
  return { ...(await prepareDrop(target, { customers: CUSTOMERS, units: UNITS })), baseline }
}

/** One customer (the iteration's own): enter, then poll until the allocator decided. */
export async function enterDrop({ base, dropId, customers, units }: DropData) {
  const customer = customers[exec.scenario.iterationInTest]
  if (!customer) return
  const auth = bearer(customer.token)
  const entry = await http.post(`${base}/v1/flash-sales/drops/${dropId}/entries`, null, {
    ...auth,
    tags: { name: 'entry' },
    responseCallback: http.expectedStatuses(200, 202, 409),
  })
  const soldOut = entry.status === 409 && entry.json().code === 'sold_out'
  const accepted = entry.status === 202 || entry.status === 200
  if (!check(entry, { 'entry: accepted or sold_out': () => accepted || soldOut })) entryErrors.add(1)
  if (!accepted) return
  const answeredAt = performance.now()
  // The last winner polls closely (one customer: no load to speak of); the others every 100 ms.
  const sentinel = entry.json().seq === units
  const deadline = answeredAt + 30_000
  while (performance.now() < deadline) {
    await sleep(sentinel ? 0.005 : 0.1)
    const me = await http.get(`${base}/v1/flash-sales/drops/${dropId}/entries/me`, { ...auth, tags: { name: 'result' } })
    const status = me.status === 200 ? me.json().status : 'error'
    if (status !== 'queued') {
      if (sentinel) lastWinnerSeenAt = Date.now()
      decisionWait.add(performance.now() - answeredAt)
      check(me, { 'result: decided (won, waitlisted or lost)': () => ['won', 'waitlisted', 'lost'].includes(status) })
      if (status === 'won') await payWinnerOrder(base, auth, me.json().order_id)
      return
    }
  }
  check(null, { 'result: decided (won, waitlisted or lost)': () => false })
}

export default enterDrop

/** A winner gives the order its address and pays by card, as the checks that follow expect money to be made. */
async function payWinnerOrder(base: string, auth: ReturnType<typeof bearer>, orderId: string) {
  const address = await http.patch(`${base}/v1/orders/${orderId}`, JSON.stringify({ shipping_address: SHIPPING_ADDRESS }), { ...auth, tags: { name: 'winner_address' } })
  const payment = await http.post(`${base}/v1/orders/${orderId}/payments`, JSON.stringify({ method: 'card', card: APPROVED_CARD }), { ...auth, tags: { name: 'winner_payment' } })
  check(payment, { 'winner: address set and paid (201)': (r) => address.status === 200 && r.status === 201 })
}

/**
 * The invariants, plus how long after the units-th entry was accepted every winner was
 * decided, as a gauge (its threshold is the budget's 100 ms; an upper bound by one 5 ms poll).
 */
export async function checkDrop(data: DropData, target: Target) {
  const verdict = await verifyDrop({ ...data, fixtures: await target.fixtures() })
  // Server and bench share this machine's clock.
  if (verdict.lastWinnerQueuedAt !== null && lastWinnerSeenAt !== undefined) decidedAfter.add(lastWinnerSeenAt - verdict.lastWinnerQueuedAt)
  if (verdict.lastWinnerQueuedAt !== null && verdict.winnersDecidedAt.length) decidedInServer.add(Math.max(...verdict.winnersDecidedAt) - verdict.lastWinnerQueuedAt)
  activeStore().mark('entries accepted', verdict.acceptedAt)
  activeStore().mark('winners decided', verdict.winnersDecidedAt)
  if (data.baseline) {
    baselineP99.add(data.baseline.p99)
    entryP99OverBaseline.add(activeStore().percentileOf('http_req_duration', { name: 'entry' }, 99) / data.baseline.p99)
  }
  return verdict
}

export const teardown = (data: DropData, target: Target) => checkDrop(data, target)

if (import.meta.main) void runCli(import.meta.path)
