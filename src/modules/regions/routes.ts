import { Elysia } from 'elysia'
import type { AuthPlugin } from '../../plugins/auth'
import { NoContent, Unavailable } from '../../lib/models'
import type { RegionsService } from './service'
import { CreateRegionBody, PatchRegionBody, Problem, Region, RegionPage, RegionParams, RegionsQuery } from './model'

const adminErrors = { 401: Problem, 403: Problem, 404: Problem, 409: Problem, 415: Problem, 422: Problem, 503: Unavailable }

export const regionsRoutes = (regions: RegionsService, auth: AuthPlugin) =>
  new Elysia({ name: 'regions-routes' })
    .use(auth)
    .group('/v1/regions', { detail: { tags: ['regions'] } }, (app) =>
      app
        .get('', ({ query }) => regions.list(query.limit, query.cursor), {
          query: RegionsQuery,
          response: { 200: RegionPage, 422: Problem },
          detail: { summary: 'List regions' },
        })
        .get('/:id', ({ params }) => regions.get(params.id), {
          params: RegionParams,
          response: { 200: Region, 404: Problem, 422: Problem },
          detail: { summary: 'A region' },
        })
        .post('', async ({ body, status }) => status(201, await regions.create(body)), {
          auth: 'admin',
          body: CreateRegionBody,
          response: { 201: Region, ...adminErrors },
          detail: { summary: 'Create a region' },
        })
        .patch('/:id', ({ params, body }) => regions.update(params.id, body), {
          auth: 'admin',
          params: RegionParams,
          body: PatchRegionBody,
          response: { 200: Region, ...adminErrors },
          detail: { summary: 'Change a region (its currency is fixed once it has products)' },
        })
        .delete('/:id', async ({ params, status }) => status(204, await regions.delete(params.id)), {
          auth: 'admin',
          params: RegionParams,
          response: { 204: NoContent, ...adminErrors },
          detail: { summary: 'Delete a region without products' },
        }),
    )
