import { eq } from 'drizzle-orm'
import { moneyViolations } from '../../bench/lib/money'
import type { ChargeRequest } from '../../src/modules/payments/gateway'
import { fakeGatewayCharges, payments } from '../../src/modules/payments/schema'
import type { TestShop } from './harness'

export const approvedCard = (year = new Date().getUTCFullYear() + 2) => ({ method: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: year, cvc: '123', holder: 'ANA SOUZA' } })

/** Buying and watching the money of one test shop. */
export function money(s: TestShop) {
  const { gateway, jobs } = s.shop.services
  return {
    pay: (token: string, orderId: string, body: unknown = approvedCard(), headers: Record<string, string> = {}) => s.request('POST', `/v1/orders/${orderId}/payments`, { token, body, headers }),
    order: (token: string, id: string) => s.request('GET', `/v1/orders/${id}`, { token }).then((r) => r.body),
    paymentsOf: (orderId: string) => s.database.db.select().from(payments).where(eq(payments.orderId, orderId)),
    chargesOf: (paymentId: string) => s.database.db.select().from(fakeGatewayCharges).where(eq(fakeGatewayCharges.paymentId, paymentId)),
    simulate: (token: string, paymentId: string, outcome: 'paid' | 'expired') => s.request('POST', `/v1/payments/${paymentId}/simulate`, { token, body: { outcome } }),
    /** Until nothing is in flight: webhooks delivered, jobs due now run. */
    async quiet() {
      for (;;) {
        await gateway.idle()
        if (!(await jobs.runDue())) break
      }
      await gateway.idle()
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
    pauseCharges(where: 'before' | 'after') {
      const original = gateway.createCharge.bind(gateway)
      let release = () => {}
      const released = new Promise<void>((resolve) => (release = resolve))
      let reached = () => {}
      const paused = new Promise<void>((resolve) => (reached = resolve))
      gateway.createCharge = async (request: ChargeRequest) => {
        if (where === 'before') {
          reached()
          await released
          return original(request)
        }
        const charge = await original(request)
        reached()
        await released
        return charge
      }
      return { paused, release, restore: () => void Reflect.deleteProperty(gateway, 'createCharge') }
    },
    /** Cuts webhook delivery (a disk-full shop answers 503); returns the function that restores it. */
    cutWebhooks(status = 503) {
      const previous = gateway.connect(async () => new Response(null, { status }))!
      return () => void gateway.connect(previous)
    },
  }
}
