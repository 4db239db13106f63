import { Elysia } from 'elysia'
import type { AuthPlugin } from '../../plugins/auth'
import { NoContent, preserialized, ProblemOf } from '../../lib/models'
import { storedImageResponse } from '../../lib/images'
import type { CatalogService } from './service'
import {
  CategoriesQuery,
  Category,
  CategoryPage,
  CategoryParams,
  CreateCategoryBody,
  CreateProductBody,
  ImageBody,
  ImageParams,
  ProductImageBytes,
  PatchProductBody,
  Problem,
  Product,
  ProductPage,
  ProductParams,
  ProductsQuery,
} from './model'

const ProductRefused = ProblemOf('`validation_failed`: a field is wrong, no such region or category, or the attributes do not fit the product type (a book needs a valid ISBN)')
const SkuTaken = ProblemOf('`conflict`: the sku is taken in this region')

export const catalogRoutes = (catalog: CatalogService, auth: AuthPlugin) =>
  new Elysia({ name: 'catalog-routes' })
    .use(auth)
    .group('/v1/products', { detail: { tags: ['catalog'] } }, (app) =>
      app
        .get('', async ({ query, set }) => preserialized(set, await catalog.pageJson(query)), {
          query: ProductsQuery,
          response: { 200: ProductPage },
          detail: {
            summary: 'List products (filters: region_id, type, category_id, q, min_price, max_price, in_stock)',
            description:
              'Live products in id order, with their stock, a page at a time (`next_cursor`). `q` matches words of the title, author, sku or ISBN by prefix. Filters combine; a query parameter this list does not know answers 422.',
          },
        })
        .get('/:id', async ({ params, set }) => preserialized(set, await catalog.productJson(params.id)), {
          params: ProductParams,
          response: { 200: Product, 404: Problem },
          detail: { summary: 'A product', description: 'With its current price, stock and categories. Public.' },
        })
        .post('', async ({ body, user, status }) => status(201, await catalog.create(user.id, body)), {
          auth: 'admin',
          body: CreateProductBody,
          response: { 201: Product, 403: Problem, 409: SkuTaken, 422: ProductRefused },
          detail: {
            summary: 'Create a product (a book sku defaults to its ISBN-13)',
            description: "Admins. Priced in minor units of its region's currency; an initial `stock` is written to the ledger as an adjustment. `type` picks the attribute rules (book, generic, …).",
          },
        })
        .patch('/:id', ({ params, body }) => catalog.update(params.id, body), {
          auth: 'admin',
          params: ProductParams,
          body: PatchProductBody,
          response: { 200: Product, 403: Problem, 404: Problem, 409: SkuTaken, 422: ProductRefused },
          detail: { summary: 'Change a product (stock changes through /stock)', description: 'Admins. Fields left out stay as they are; orders already placed keep the price they were placed at.' },
        })
        .delete('/:id', async ({ params, status }) => status(204, await catalog.delete(params.id)), {
          auth: 'admin',
          params: ProductParams,
          response: { 204: NoContent, 403: Problem, 404: Problem },
          detail: { summary: 'Delete a product (soft: past orders still show it)', description: 'Admins. The product leaves the catalog and carts; orders keep their copy of it.' },
        })
        .put('/:id/image', ({ params, body }) => catalog.setImage(params.id, body.image), {
          auth: 'admin',
          params: ProductParams,
          body: ImageBody,
          response: { 200: Product, 403: Problem, 404: Problem, 413: Problem, 415: ProblemOf('`unsupported_media_type`: not a JPEG, PNG or WebP image') },
          detail: {
            summary: "Upload the product's image (JPEG, PNG or WebP, at most 5 MB)",
            description:
              'Multipart field `image`, with the rules of profile photos: the bytes must decode as JPEG, PNG or WebP (415 otherwise, whatever the declared type), at most 5 MB (413). Stored re-encoded as WebP without metadata; `image_url` of the answer points to it and replaces any previous image.',
          },
        })
        .delete('/:id/image', ({ params }) => catalog.removeImage(params.id), {
          auth: 'admin',
          params: ProductParams,
          response: { 200: Product, 403: Problem, 404: Problem },
          detail: { summary: "Remove the product's image", description: 'The stored file is deleted and `image_url` becomes null (a linked https image is unlinked too).' },
        }),
    )
    .get('/v1/images/:key', async ({ params }) => storedImageResponse(await catalog.image(params.key)), {
      params: ImageParams,
      response: { 200: ProductImageBytes, 404: Problem },
      detail: { tags: ['catalog'], summary: 'A product image (WebP)', description: 'Public and immutable: a new upload gets a new URL.' },
    })
    .group('/v1/categories', { detail: { tags: ['catalog'] } }, (app) =>
      app
        .get('', ({ query }) => catalog.categories.listCategories(query.limit, query.cursor), {
          query: CategoriesQuery,
          response: { 200: CategoryPage },
          detail: { summary: 'List categories', description: 'Every category, a page at a time (`next_cursor`). Public.' },
        })
        .post('', async ({ body, status }) => status(201, await catalog.categories.createCategory(body.name)), {
          auth: 'admin',
          body: CreateCategoryBody,
          response: { 201: Category, 403: Problem, 409: ProblemOf('`conflict`: a category with this name exists') },
          detail: { summary: 'Create a category', description: 'Admins. Products list their categories in `category_ids`.' },
        })
        .patch('/:id', ({ params, body }) => catalog.categories.updateCategory(params.id, body.name), {
          auth: 'admin',
          params: CategoryParams,
          body: CreateCategoryBody,
          response: { 200: Category, 403: Problem, 404: Problem, 409: ProblemOf('`conflict`: another category has this name') },
          detail: { summary: 'Rename a category', description: '409 `conflict` when another category has that name (names compare case-insensitively).' },
        })
        .delete('/:id', async ({ params, status }) => status(204, await catalog.categories.deleteCategory(params.id)), {
          auth: 'admin',
          params: CategoryParams,
          response: { 204: NoContent, 403: Problem, 404: Problem },
          detail: { summary: 'Delete a category', description: 'Products in it lose it and stay in their other categories.' },
        }),
    )
