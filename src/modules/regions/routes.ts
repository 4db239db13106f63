import { Elysia } from 'elysia'
import type { AuthPlugin } from '../../plugins/auth'
import { NoContent, ProblemOf } from '../../lib/models'
import type { RegionsService } from './service'
import { CreateRegionBody, PatchRegionBody, Problem, Region, RegionPage, RegionParams, RegionsQuery } from './model'

export const regionsRoutes = (regions: RegionsService, auth: AuthPlugin) =>
  new Elysia({ name: 'regions-routes' }).use(auth).group('/v1/regions', { detail: { tags: ['regions'] } }, (app) =>
    app
      .get('', ({ query }) => regions.list(query.limit, query.cursor), {
        query: RegionsQuery,
        response: { 200: RegionPage },
        detail: { summary: 'List regions', description: 'Every region, a page at a time (`next_cursor`). Public.' },
      })
      .get('/:id', ({ params }) => regions.get(params.id), {
        params: RegionParams,
        response: { 200: Region, 404: Problem },
        detail: { summary: 'A region', description: 'Its country, currency (with the digits of its minor unit) and tax. Public.' },
      })
      .post('', async ({ body, status }) => status(201, await regions.create(body)), {
        auth: 'admin',
        body: CreateRegionBody,
        response: { 201: Region, 403: Problem, 422: ProblemOf('`validation_failed`: a field is wrong, or the country or currency is not an ISO code') },
        detail: { summary: 'Create a region', description: "Admins. Products are priced in the region's currency and taxed at its rate (basis points)." },
      })
      .patch('/:id', ({ params, body }) => regions.update(params.id, body), {
        auth: 'admin',
        params: RegionParams,
        body: PatchRegionBody,
        response: { 200: Region, 403: Problem, 404: Problem, 409: ProblemOf('`conflict`: the currency of a region with products cannot change') },
        detail: { summary: 'Change a region (its currency is fixed once it has products)', description: 'Admins. Fields left out stay as they are.' },
      })
      .delete('/:id', async ({ params, status }) => status(204, await regions.delete(params.id)), {
        auth: 'admin',
        params: RegionParams,
        response: { 204: NoContent, 403: Problem, 404: Problem, 409: ProblemOf('`conflict`: the region still has products') },
        detail: { summary: 'Delete a region without products', description: 'Admins. A region with products (even deleted ones kept for past orders) cannot be deleted.' },
      }),
  )
