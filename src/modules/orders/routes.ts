import { Elysia, t } from 'elysia'
import type { AuthPlugin } from '../../plugins/auth'
import { STREAM_IDLE_SECONDS } from '../../lib/sse'
import { Unavailable } from '../../lib/models'
import type { OrdersService } from './service'
import {
  CancelConflict,
  CheckoutBody,
  CheckoutConflict,
  CheckoutInvalid,
  EventsHeaders,
  IdempotencyHeaders,
  Order,
  OrderPage,
  OrderParams,
  OrdersQuery,
  PatchConflict,
  PatchOrderBody,
  Problem,
  RefundBody,
  RefundConflict,
  StatusStream,
} from './model'

export const ordersRoutes = (orders: OrdersService, auth: AuthPlugin) =>
  new Elysia({ name: 'orders-routes' }).use(auth).group('/v1/orders', { detail: { tags: ['orders'] } }, (app) =>
    app
      .post('', async ({ user, body, headers, status }) => status(201, await orders.checkout(user.id, body, headers['idempotency-key'])), {
        auth: 'customer',
        body: CheckoutBody,
        headers: IdempotencyHeaders,
        response: { 201: Order, 403: Problem, 409: CheckoutConflict, 422: CheckoutInvalid, 503: Unavailable },
        detail: {
          summary: 'Check out my cart: stock taken for every line at once, or none (honours Idempotency-Key)',
          description:
            'Places an order from the cart in `pending_payment`, at the prices of now, and empties the cart. The address and name default to the profile. A retry with the same `Idempotency-Key` and body answers the same order. Pay it before `payment_due_at`.',
        },
      })
      .get('', ({ user, query }) => orders.list(user, query), {
        auth: 'user',
        query: OrdersQuery,
        response: { 200: OrderPage },
        detail: {
          summary: 'My orders, newest first (admins: every order, and search)',
          description:
            'Filters combine: `status`, `source`, `from`/`to` (created_at, from inclusive, to exclusive) and `q` (part of the customer name on the order or of their email, case-insensitive). Admins see every order and may filter by `user_id`; a customer sees their own. A query parameter this list does not know answers 422.',
        },
      })
      .get('/:id', ({ user, params }) => orders.get(user, params.id), {
        auth: 'user',
        params: OrderParams,
        response: { 200: Order, 404: Problem },
        detail: { summary: 'An order with its timeline (owner or admin)', description: "Lines, totals, address and each status change with its time. Another customer's order is 404." },
      })
      .patch('/:id', ({ user, params, body }) => orders.update(user, params.id, body), {
        auth: 'user',
        params: OrderParams,
        body: PatchOrderBody,
        response: { 200: Order, 403: Problem, 404: Problem, 409: PatchConflict, 503: Unavailable },
        detail: {
          summary: 'Owner: change the shipping address while awaiting payment; admin: set the status',
          description: 'Admins move a paid order to `shipped` and `delivered`; payments set the other statuses. Each change is added to the timeline and pushed to live trackers.',
        },
      })
      .delete('/:id', ({ user, params }) => orders.cancel(user, params.id), {
        auth: 'user',
        params: OrderParams,
        response: { 200: Order, 404: Problem, 409: CancelConflict, 503: Unavailable },
        detail: {
          summary: 'Cancel an order awaiting payment (stock returned); the owner of a paid, unshipped order gets it refunded (admins refund with POST …/refund)',
          description:
            "The owner (or an admin) cancels a `pending_payment` order: its open payments close and its stock returns through the ledger. An admin's DELETE of a paid order is 409: admins refund.",
        },
      })
      .post('/:id/refund', ({ user, params, body }) => orders.refund(user, params.id, body), {
        auth: 'admin',
        params: OrderParams,
        body: RefundBody,
        response: { 200: Order, 403: Problem, 404: Problem, 409: RefundConflict, 503: Unavailable },
        detail: {
          summary: 'Refund a paid, shipped or delivered order: its payment back through the gateway, its stock back when unshipped or restock is true',
          description: 'Admins. The order becomes `refunded` and its paid payment `refunded` through the gateway and its signed webhook; the timeline says so.',
        },
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
          response: { 200: StatusStream, 204: t.Void({ description: 'The order reached a final status the client has seen' }), 404: Problem },
          detail: {
            summary: 'Live status of an order (Server-Sent Events; Last-Event-ID replays what was missed)',
            description:
              "A stream of the order's status: the current one, then each change, with a heartbeat comment every few seconds. Reconnect with `Last-Event-ID` to get only what was missed; 204 once a final status was seen.",
          },
        },
      ),
  )
