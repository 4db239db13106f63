import { expect } from 'bun:test'
import * as flashSale from '../../bench/flash-sale'
import type { Script } from '../../bench/lib/runner'
import type { Summary } from '../../bench/lib/summary'
import type { Target } from '../../bench/lib/target'

/** The flash-sale scenario's invariant checks (bench/lib/invariants.ts): each must pass once and never fail. */
export const STAMPEDE_INVARIANTS = [
  'invariant: winners == units',
  'invariant: winners are the smallest seqs',
  'invariant: seqs strictly increase, one entry per customer',
  'invariant: every entered customer is in the audit with their seq (the waitlist once final)',
  'invariant: every entry ended won or lost (or waitlisted while a winner may still pay)',
  'invariant: each winner holds one flash-sale order of one unit',
  'invariant: ledger rows sum to the stock',
  'invariant: stock fell by exactly what was sold',
  'invariant: money adds up (each captured charge is a paid order’s one payment, or refunded)',
]

/** Every invariant held; units + the default waitlist (as many) got in and everyone else was told sold_out. */
export function expectStampedeHeld(summary: Summary, customers: number, units: number) {
  const checks = new Map(summary.checks.map((c) => [c.name, c]))
  for (const name of STAMPEDE_INVARIANTS) expect({ name, ...checks.get(name) }).toEqual({ name, passes: 1, fails: 0 })
  expect(summary.http.by_status).toMatchObject({ '202': 2 * units, '409': customers - 2 * units })
  expect(summary.errors).toEqual({})
  expect(summary.ok).toBe(true)
}

/** The flash-sale scenario at test size (no latency thresholds: an invariant test); `kept` receives the drop it set up. */
export function stampedeScript(customers: number, units: number, kept: { drop?: flashSale.DropData } = {}): Script {
  return {
    ...flashSale,
    options: {
      scenarios: { stampede: { executor: 'constant-arrival-rate', rate: customers, timeUnit: '1s', duration: '1s', preAllocatedVUs: customers } },
      thresholds: { entry_errors: ['count==0'], checks: ['rate==1'] },
    },
    setup: async (target: Target) => (kept.drop = await flashSale.prepareDrop(target, { customers, units, openSeconds: 4 })),
  }
}
