import { Elysia } from 'elysia'
import type { AuthPlugin } from '../../plugins/auth'
import { rateLimitClasses } from '../../plugins/rate-limit'
import { IdempotencyHeaders, OrderParams } from '../orders'
import type { PaymentsService } from './service'
import { PayBody, PayConflict, PayUnavailable, Payment, PaymentList, PaymentParams, Problem, SimulateBody, SimulateConflict, WebhookAck, WebhookEvent } from './model'
import { ProblemOf, readBody } from '../../lib/models'

export const WEBHOOK_PATH = '/v1/payments/webhook'

/** The webhook's body reaches the handler as its exact bytes: http-errors lists it in `rawBodyRoutes`. */
const bytesOf = (body: unknown) => (body instanceof Uint8Array ? body : new Uint8Array())

export const paymentsRoutes = (payments: PaymentsService, auth: AuthPlugin) =>
  new Elysia({ name: 'payments-routes' })
    .use(auth)
    .use(rateLimitClasses)
    .group('/v1/orders/:id/payments', { detail: { tags: ['payments'] }, params: OrderParams }, (app) =>
      app
        .post('', async ({ user, params, body, headers, status }) => status(201, await payments.pay(user, params.id, body, headers['idempotency-key'])), {
          auth: 'customer',
          body: PayBody,
          headers: IdempotencyHeaders,
          response: {
            201: Payment,
            402: ProblemOf('`payment_declined`: the card was declined; the order still awaits payment'),
            403: Problem,
            404: Problem,
            409: PayConflict,
            503: PayUnavailable,
          },
          detail: {
            summary: 'Pay my order by card or Pix (honours Idempotency-Key)',
            description:
              'A card is charged at once (201 `paid`, or 402). Pix answers 201 `pending` with a copy-and-paste code to pay before it expires; the order becomes paid when the gateway reports it. A retry with the same `Idempotency-Key` never charges twice.',
          },
        })
        .get('', ({ user, params }) => payments.list(user, params.id), {
          auth: 'user',
          response: { 200: PaymentList, 404: Problem },
          detail: { summary: "An order's payments (owner or admin)", description: 'Every attempt, newest first, with its status; cards show only brand and last four digits.' },
        }),
    )
    .group('/v1/payments', { detail: { tags: ['payments'] } }, (app) =>
      app
        .post('/webhook', ({ body, headers }) => payments.receiveWebhook(bytesOf(body), headers['shop-signature']), {
          // Authenticated by its HMAC, from a gateway's few addresses (the fake gateway's from none): an IP bucket would refuse payments under load.
          rateLimit: 'exempt',
          response: {
            200: WebhookAck,
            400: ProblemOf('`malformed_json`: the body is not JSON'),
            401: ProblemOf('`unauthorized`: the signature is missing, wrong or too old'),
            413: Problem,
            422: ProblemOf('`validation_failed`: not a gateway event'),
          },
          detail: {
            summary: 'Gateway events, signed: Shop-Signature t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">',
            description:
              'Called by the payment gateway, not by clients. The signature covers the exact bytes; each event id is applied once (a repeat answers 200). Only a `charge.paid` for exactly the order total marks the order paid.',
            requestBody: readBody(WebhookEvent),
          },
        })
        .post('/:id/simulate', ({ user, params, body }) => payments.simulate(user, params.id, body.outcome), {
          auth: 'user',
          params: PaymentParams,
          body: SimulateBody,
          response: { 200: Payment, 404: ProblemOf('`not_found`: no such payment of yours, or the gateway is not the fake one'), 409: SimulateConflict },
          detail: {
            summary: "Fake gateway only: settle a pending payment as the customer's bank would",
            description: 'For demos and tests: the fake gateway reports `paid` or `expired` through its signed webhook, as a bank would after a Pix payment.',
          },
        }),
    )
