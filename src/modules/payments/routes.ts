import { Elysia } from 'elysia'
import { Unavailable } from '../../lib/models'
import type { AuthPlugin } from '../../plugins/auth'
import { rateLimitClasses } from '../../plugins/rate-limit'
import { IdempotencyHeaders, OrderParams } from '../orders'
import type { PaymentsService } from './service'
import { PayBody, PayConflict, PayUnavailable, Payment, PaymentList, PaymentParams, Problem, SimulateBody, SimulateConflict, WebhookAck } from './model'

export const WEBHOOK_PATH = '/v1/payments/webhook'
const errors = { 401: Problem, 403: Problem, 404: Problem, 409: Problem, 415: Problem, 422: Problem, 429: Problem, 503: Unavailable }

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
          response: { 201: Payment, 402: Problem, ...errors, 409: PayConflict, 503: PayUnavailable },
          detail: { summary: 'Pay my order by card or Pix (honours Idempotency-Key)' },
        })
        .get('', ({ user, params }) => payments.list(user, params.id), {
          auth: 'user',
          response: { 200: PaymentList, ...errors },
          detail: { summary: "An order's payments (owner or admin)" },
        }),
    )
    .group('/v1/payments', { detail: { tags: ['payments'] } }, (app) =>
      app
        .post('/webhook', ({ body, headers }) => payments.receiveWebhook(bytesOf(body), headers['shop-signature']), {
          // Authenticated by its HMAC, from a gateway's few addresses (the fake gateway's from none): an IP bucket would refuse payments under load.
          rateLimit: 'exempt',
          response: { 200: WebhookAck, 400: Problem, 401: Problem, 413: Problem, 422: Problem, 503: Unavailable },
          detail: { summary: 'Gateway events, signed: Shop-Signature t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">' },
        })
        .post('/:id/simulate', ({ user, params, body }) => payments.simulate(user, params.id, body.outcome), {
          auth: 'user',
          params: PaymentParams,
          body: SimulateBody,
          response: { 200: Payment, ...errors, 409: SimulateConflict },
          detail: { summary: "Fake gateway only: settle a pending payment as the customer's bank would" },
        }),
    )
