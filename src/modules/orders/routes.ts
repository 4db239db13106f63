import { Elysia, t } from 'elysia'
import type { AuthPlugin } from '../../plugins/auth'
import { STREAM_IDLE_SECONDS } from '../../lib/sse'
import { Unavailable } from '../../lib/models'
import type { OrdersService } from './service'
import { CancelConflict, CheckoutBody, CheckoutInvalid, EventsHeaders, IdempotencyHeaders, Order, OrderPage, OrderParams, OrdersQuery, PatchConflict, PatchOrderBody, Problem, RefundBody, RefundConflict } from './model'

const errors = { 401: Problem, 403: Problem, 404: Problem, 409: Problem, 415: Problem, 422: Problem, 429: Problem, 503: Unavailable }

export const ordersRoutes = (orders: OrdersService, auth: AuthPlugin) =>
  new Elysia({ name: 'orders-routes' }).use(auth).group('/v1/orders', { detail: { tags: ['orders'] } }, (app) =>
    app
      .post('', async ({ user, body, headers, status }) => status(201, await orders.checkout(user.id, body, headers['idempotency-key'])), {
        auth: 'customer',
        body: CheckoutBody,
        headers: IdempotencyHeaders,
        response: { 201: Order, ...errors, 422: CheckoutInvalid },
        detail: { summary: 'Check out my cart: stock taken for every line at once, or none (honours Idempotency-Key)' },
      })
      .get('', ({ user, query }) => orders.list(user, query), {
        auth: 'user',
        query: OrdersQuery,
        response: { 200: OrderPage, ...errors },
        detail: {
          summary: 'My orders, newest first (admins: every order, and search)',
          description:
            'Filters combine: `status`, `source`, `from`/`to` (created_at, from inclusive, to exclusive) and `q` (part of the customer name on the order or of their email, case-insensitive). Admins see every order and may filter by `user_id`; a customer sees their own. A query parameter this list does not know answers 422.',
        },
      })
      .get('/:id', ({ user, params }) => orders.get(user, params.id), {
        auth: 'user',
        params: OrderParams,
        response: { 200: Order, ...errors },
        detail: { summary: 'An order with its timeline (owner or admin)' },
      })
      .patch('/:id', ({ user, params, body }) => orders.update(user, params.id, body), {
        auth: 'user',
        params: OrderParams,
        body: PatchOrderBody,
        response: { 200: Order, ...errors, 409: PatchConflict },
        detail: { summary: 'Owner: change the shipping address while awaiting payment; admin: set the status' },
      })
      .delete('/:id', ({ user, params }) => orders.cancel(user, params.id), {
        auth: 'user',
        params: OrderParams,
        response: { 200: Order, ...errors, 409: CancelConflict },
        detail: { summary: 'Cancel an order awaiting payment (stock returned); the owner of a paid, unshipped order gets it refunded (admins refund with POST …/refund)' },
      })
      .post('/:id/refund', ({ user, params, body }) => orders.refund(user, params.id, body), {
        auth: 'admin',
        params: OrderParams,
        body: RefundBody,
        response: { 200: Order, ...errors, 409: RefundConflict },
        detail: { summary: 'Refund a paid, shipped or delivered order: its payment back through the gateway, its stock back when unshipped or restock is true' },
      })
      .get(
        '/:id/events',
        async ({ user, params, headers, request, server }) => {
          server?.timeout(request, STREAM_IDLE_SECONDS)
          // Nothing more will come: SSE clients stop reconnecting on a 204.
          return (await orders.track(user, params.id, headers['last-event-id'])) ?? new Response(null, { status: 204 })
        },
        {
          stream: 'user',
          params: OrderParams,
          headers: EventsHeaders,
          response: { 200: t.String({ description: 'text/event-stream: `event: status`, `data: { status, at, event?, payment_id? }` (`event` on a money event: payment_voided, payment_refunded), `id` the timeline entry' }), 204: t.Void({ description: 'The order reached a final status the client has seen' }), ...errors },
          detail: { summary: 'Live status of an order (Server-Sent Events; Last-Event-ID replays what was missed)' },
        },
      ),
  )
