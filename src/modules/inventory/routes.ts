import { Elysia } from 'elysia'
import type { AuthPlugin } from '../../plugins/auth'
import type { InventoryService } from './service'
import { ProblemOf } from '../../lib/models'
import { MovementPage, MovementsQuery, Problem, ProductParams, Purchase, PurchaseBody, PurchasePage, PurchasesQuery, StockBody, StockResult } from './model'

export const inventoryRoutes = (inventory: InventoryService, auth: AuthPlugin) =>
  new Elysia({ name: 'inventory-routes' })
    .use(auth)
    .group('/v1/products/:id', { detail: { tags: ['inventory'] } }, (app) =>
      app
        .post('/stock', ({ params, body, user }) => inventory.adjust(user.id, params.id, body), {
          auth: 'admin',
          params: ProductParams,
          body: StockBody,
          response: { 200: StockResult, 403: Problem, 404: Problem, 409: ProblemOf('`insufficient_stock`: the stock would go below 0 (`available` says how much there is)') },
          detail: {
            summary: 'Adjust stock by a delta or to a counted figure (never below 0)',
            description: 'Admins. Writes one ledger row (reason `adjustment`, the reason given as its ref) and answers the new stock.',
          },
        })
        .get('/movements', ({ params, query }) => inventory.movements(params.id, query.limit, query.cursor), {
          auth: 'admin',
          params: ProductParams,
          query: MovementsQuery,
          response: { 200: MovementPage, 403: Problem, 404: Problem },
          detail: {
            summary: "A product's stock ledger, oldest first (rows sum to its stock)",
            description: 'Admins. Every movement: adjustments, purchases, sales, cancellations and flash-sale reservations, with the stock after each.',
          },
        }),
    )
    .group('/v1/purchases', { detail: { tags: ['inventory'] } }, (app) =>
      app
        .post('', async ({ body, user, status }) => status(201, await inventory.receive(user.id, body)), {
          auth: 'admin',
          body: PurchaseBody,
          response: { 201: Purchase, 403: Problem, 422: ProblemOf('`validation_failed`: a field is wrong or a line names no live product') },
          detail: {
            summary: 'Record goods received: every line adds stock, all or nothing',
            description: 'Admins. Each line adds its quantity to the stock through the ledger (reason `purchase`); the receipt keeps the unit costs.',
          },
        })
        .get('', ({ query }) => inventory.purchases(query.limit, query.cursor), {
          auth: 'admin',
          query: PurchasesQuery,
          response: { 200: PurchasePage, 403: Problem },
          detail: { summary: 'Purchase receipts', description: 'Admins. Newest first, a page at a time (`next_cursor`).' },
        }),
    )
