import { Elysia } from 'elysia'
import type { AuthPlugin } from '../../plugins/auth'
import { IdempotencyHeaders, OrderParams } from '../orders/model'
import type { PaymentsService } from './service'
import { PayBody, Payment, PaymentList, PaymentParams, Problem, SimulateBody, WebhookAck } from './model'

export const WEBHOOK_PATH = '/v1/payments/webhook'
const errors = { 401: Problem, 403: Problem, 404: Problem, 409: Problem, 415: Problem, 422: Problem, 429: Problem }

/**
 * The HMAC covers the exact bytes the gateway sent, but the JSON parser (http-errors, which
 * keeps its JSON-only rule for this route too) consumes the body: keep a copy of the
 * webhook's raw text before parsing.
 */
const rawBodies = new WeakMap<Request, Promise<string>>()
const rawBodyOf = (request: Request) => rawBodies.get(request) ?? Promise.resolve('')

export const paymentsRoutes = (payments: PaymentsService, auth: AuthPlugin) =>
  new Elysia({ name: 'payments-routes' })
    .use(auth)
    .onRequest(({ request }) => {
      // Cheap checks first: this runs on every request of the app.
      if (request.method !== 'POST' || !request.url.includes(WEBHOOK_PATH) || new URL(request.url).pathname !== WEBHOOK_PATH) return
      const text = request.clone().text()
      // Refused before the handler (415, 413), the body is never read and the copy's read aborts: not an error.
      text.catch(() => undefined)
      rawBodies.set(request, text)
    })
    .group('/v1/orders/:id/payments', { detail: { tags: ['payments'] }, params: OrderParams }, (app) =>
      app
        .post('', async ({ user, params, body, headers, status }) => status(201, await payments.pay(user, params.id, body, headers['idempotency-key'])), {
          auth: 'customer',
          body: PayBody,
          headers: IdempotencyHeaders,
          response: { 201: Payment, 402: Problem, 503: Problem, ...errors },
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
        .post('/webhook', async ({ request, headers }) => payments.receiveWebhook(await rawBodyOf(request), headers['shop-signature']), {
          response: { 200: WebhookAck, 400: Problem, 401: Problem, 415: Problem, 422: Problem, 429: Problem },
          detail: { summary: 'Gateway events, signed: Shop-Signature t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">' },
        })
        .post('/:id/simulate', ({ user, params, body }) => payments.simulate(user, params.id, body.outcome), {
          auth: 'user',
          params: PaymentParams,
          body: SimulateBody,
          response: { 200: Payment, ...errors },
          detail: { summary: "Fake gateway only: settle a pending payment as the customer's bank would" },
        }),
    )
