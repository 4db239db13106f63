import { eq } from 'drizzle-orm'
import type { Clock } from '../../src/lib/clock'
import { fakeGatewayEvents } from '../../src/modules/payments/schema'
import { signWebhook } from '../../src/modules/payments/signature'
import type { TestShop } from './harness'

export type GatewayEventBody = { id: string; type: string; charge_ref: string; payment_id: string; amount: number; currency: string; created: number }

/** Delivering the gateway's events by hand, as it would sign them, and seeing when they reach the receiver. */
export function webhooks(s: TestShop, clock: Clock) {
  const { gateway } = s.shop.services
  return {
    post(event: GatewayEventBody) {
      const body = JSON.stringify(event)
      return s.request('POST', '/v1/payments/webhook', {
        raw: body,
        headers: { 'content-type': 'application/json', 'shop-signature': signWebhook(s.config.WEBHOOK_SECRET, body, Math.floor(clock.now() / 1000)) },
      })
    },
    /** The webhook the gateway owes for a charge (the exact event it would send). */
    async owedFor(chargeRef: string, type: string) {
      const rows = await s.database.db.select().from(fakeGatewayEvents).where(eq(fakeGatewayEvents.chargeRef, chargeRef))
      return rows.map((row) => JSON.parse(row.body) as GatewayEventBody).find((event) => event.type === type)!
    },
    /** Counts the webhooks that reach the receiver (verified, so queued for the writer) until `restore`. */
    countReceived() {
      const counted = { received: 0, restore: () => void Reflect.deleteProperty(gateway, 'verifyWebhook') }
      const verify = gateway.verifyWebhook.bind(gateway)
      gateway.verifyWebhook = (...args) => (counted.received++, verify(...args))
      return counted
    },
  }
}
