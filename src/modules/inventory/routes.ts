import { Elysia } from 'elysia'
import { Unavailable } from '../../lib/models'
import type { AuthPlugin } from '../../plugins/auth'
import type { InventoryService } from './service'
import { MovementPage, MovementsQuery, Problem, ProductParams, Purchase, PurchaseBody, PurchasePage, PurchasesQuery, StockBody, StockResult } from './model'

const adminErrors = { 401: Problem, 403: Problem, 404: Problem, 415: Problem, 422: Problem, 503: Unavailable }

export const inventoryRoutes = (inventory: InventoryService, auth: AuthPlugin) =>
  new Elysia({ name: 'inventory-routes' })
    .use(auth)
    .group('/v1/products/:id', { detail: { tags: ['inventory'] } }, (app) =>
      app
        .post('/stock', ({ params, body, user }) => inventory.adjust(user.id, params.id, body), {
          auth: 'admin',
          params: ProductParams,
          body: StockBody,
          response: { 200: StockResult, 409: Problem, ...adminErrors },
          detail: { summary: 'Adjust stock by a delta or to a counted figure (never below 0)' },
        })
        .get('/movements', ({ params, query }) => inventory.movements(params.id, query.limit, query.cursor), {
          auth: 'admin',
          params: ProductParams,
          query: MovementsQuery,
          response: { 200: MovementPage, ...adminErrors },
          detail: { summary: "A product's stock ledger, oldest first (rows sum to its stock)" },
        }),
    )
    .group('/v1/purchases', { detail: { tags: ['inventory'] } }, (app) =>
      app
        .post('', async ({ body, user, status }) => status(201, await inventory.receive(user.id, body)), {
          auth: 'admin',
          body: PurchaseBody,
          response: { 201: Purchase, ...adminErrors },
          detail: { summary: 'Record goods received: every line adds stock, all or nothing' },
        })
        .get('', ({ query }) => inventory.purchases(query.limit, query.cursor), {
          auth: 'admin',
          query: PurchasesQuery,
          response: { 200: PurchasePage, ...adminErrors },
          detail: { summary: 'Purchase receipts' },
        }),
    )
