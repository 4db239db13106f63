import { eq } from 'drizzle-orm'
import { moneyViolations } from '../../bench/lib/money'
import type { FakeGateway } from '../../src/modules/payments'
import { fakeGatewayCharges, payments } from '../../src/modules/payments/schema'
import type { TestShop } from './harness'

export const approvedCard = (year = new Date().getUTCFullYear() + 2) => ({ method: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: year, cvc: '123', holder: 'ANA SOUZA' } })

/** Buying and watching the money of one test shop. */
export function money(s: TestShop) {
  const { gateway, jobs, orderLifecycle } = s.shop.services
  return {
    pay: (token: string, orderId: string, body: unknown = approvedCard(), headers: Record<string, string> = {}) => s.request('POST', `/v1/orders/${orderId}/payments`, { token, body, headers }),
    order: (token: string, id: string) => s.request('GET', `/v1/orders/${id}`, { token }).then((r) => r.body),
    paymentsOf: (orderId: string) => s.database.db.select().from(payments).where(eq(payments.orderId, orderId)),
    chargesOf: (paymentId: string) => s.database.db.select().from(fakeGatewayCharges).where(eq(fakeGatewayCharges.paymentId, paymentId)),
    simulate: (token: string, paymentId: string, outcome: 'paid' | 'expired') => s.request('POST', `/v1/payments/${paymentId}/simulate`, { token, body: { outcome } }),
    /** Until nothing is in flight: webhooks delivered, their after-commit work done, jobs due now run. */
    async quiet() {
      const settle = async () => {
        await gateway.idle()
        await orderLifecycle.settled()
      }
      for (;;) {
        await settle()
        if (!(await jobs.runDue())) break
      }
      await settle()
    },
    /** The money invariant over the whole database, at a quiet moment. */
    async violations() {
      await this.quiet()
      return moneyViolations(s.database.db)
    },
    /**
     * A stand-in for the gateway that stops each charge at `where` (before the gateway is
     * called, or after it answered but before the shop recorded the answer) until released.
     */
    pauseCharges: (where: 'before' | 'after') => pauseGateway(gateway, 'createCharge', where),
    /** A stand-in for the gateway whose refunds (the refund job's call) hang until released. */
    pauseRefunds: () => pauseGateway(gateway, 'refund', 'before'),
    /** Cuts webhook delivery (a disk-full shop answers 503); returns the function that restores it. */
    cutWebhooks(status = 503) {
      const previous = gateway.connect(async () => new Response(null, { status }))!
      return () => void gateway.connect(previous)
    },
  }
}

/** Replaces the gateway's `method` with one that stops each call at `where` until released. */
function pauseGateway(gateway: FakeGateway, method: 'createCharge' | 'refund', where: 'before' | 'after') {
  const original = gateway[method].bind(gateway) as (...args: unknown[]) => Promise<unknown>
  let release = () => {}
  const released = new Promise<void>((resolve) => (release = resolve))
  let reached = () => {}
  const paused = new Promise<void>((resolve) => (reached = resolve))
  Object.assign(gateway, {
    [method]: async (...args: unknown[]) => {
      if (where === 'before') {
        reached()
        await released
        return original(...args)
      }
      const answer = await original(...args)
      reached()
      await released
      return answer
    },
  })
  return { paused, release, restore: () => void Reflect.deleteProperty(gateway, method) }
}
