import { Elysia } from 'elysia'
import type { AuthPlugin } from '../../plugins/auth'
import { NoContent, preserialized, Unavailable } from '../../lib/models'
import type { CatalogService } from './service'
import {
  CategoriesQuery, Category, CategoryPage, CreateCategoryBody, CreateProductBody, PatchProductBody, Problem, Product, ProductPage,
  ProductParams, ProductsQuery,
} from './model'

const adminErrors = { 401: Problem, 403: Problem, 404: Problem, 409: Problem, 415: Problem, 422: Problem, 503: Unavailable }

export const catalogRoutes = (catalog: CatalogService, auth: AuthPlugin) =>
  new Elysia({ name: 'catalog-routes' })
    .use(auth)
    .group('/v1/products', { detail: { tags: ['catalog'] } }, (app) =>
      app
        .get('', async ({ query, set }) => preserialized(set, await catalog.pageJson(query)), {
          query: ProductsQuery,
          response: { 200: ProductPage, 422: Problem },
          detail: { summary: 'List products (filters: region_id, type, category_id, q)' },
        })
        .get('/:id', async ({ params, set }) => preserialized(set, await catalog.productJson(params.id)), {
          params: ProductParams,
          response: { 200: Product, 404: Problem, 422: Problem },
          detail: { summary: 'A product' },
        })
        .post('', async ({ body, user, status }) => status(201, await catalog.create(user.id, body)), {
          auth: 'admin',
          body: CreateProductBody,
          response: { 201: Product, ...adminErrors },
          detail: { summary: 'Create a product (a book sku defaults to its ISBN-13)' },
        })
        .patch('/:id', ({ params, body }) => catalog.update(params.id, body), {
          auth: 'admin',
          params: ProductParams,
          body: PatchProductBody,
          response: { 200: Product, ...adminErrors },
          detail: { summary: 'Change a product (stock changes through /stock)' },
        })
        .delete('/:id', async ({ params, status }) => status(204, await catalog.delete(params.id)), {
          auth: 'admin',
          params: ProductParams,
          response: { 204: NoContent, ...adminErrors },
          detail: { summary: 'Delete a product (soft: past orders still show it)' },
        }),
    )
    .group('/v1/categories', { detail: { tags: ['catalog'] } }, (app) =>
      app
        .get('', ({ query }) => catalog.listCategories(query.limit, query.cursor), {
          query: CategoriesQuery,
          response: { 200: CategoryPage, 422: Problem },
          detail: { summary: 'List categories' },
        })
        .post('', async ({ body, status }) => status(201, await catalog.createCategory(body.name)), {
          auth: 'admin',
          body: CreateCategoryBody,
          response: { 201: Category, ...adminErrors },
          detail: { summary: 'Create a category' },
        }),
    )
