import { Elysia } from 'elysia'
import type { AuthPlugin } from '../../plugins/auth'
import { NoContent, Unavailable } from '../../lib/models'
import type { CartService } from './service'
import { AddItemBody, AddItemInvalid, Cart, ItemParams, LineRefused, Problem, SetQuantityBody } from './model'

export const cartRoutes = (cart: CartService, auth: AuthPlugin) =>
  new Elysia({ name: 'cart-routes' }).use(auth).group('/v1/cart', { detail: { tags: ['cart'] } }, (app) =>
    app
      .get('', ({ user }) => cart.get(user.id), {
        auth: 'customer',
        response: { 200: Cart, 403: Problem },
        detail: {
          summary: 'My cart with totals',
          description: 'Lines at the current prices, with the stock available now, the subtotal, the region tax and the total. An empty cart has no currency yet.',
        },
      })
      .delete('', async ({ user, status }) => status(204, await cart.clear(user.id)), {
        auth: 'customer',
        response: { 204: NoContent, 403: Problem, 503: Unavailable },
        detail: { summary: 'Empty my cart', description: 'Removes every line; nothing is reserved, so no stock moves.' },
      })
      .post('/items', ({ user, body }) => cart.add(user.id, body.product_id, body.quantity), {
        auth: 'customer',
        body: AddItemBody,
        response: { 200: Cart, 403: Problem, 404: Problem, 409: LineRefused, 422: AddItemInvalid, 503: Unavailable },
        detail: {
          summary: 'Add a product (the quantity adds to a line already there)',
          description: 'A cart holds products of one region, at most 100 lines, never more of a product than is in stock. Stock is taken only at checkout.',
        },
      })
      .patch('/items/:product_id', ({ user, params, body }) => cart.setQuantity(user.id, params.product_id, body.quantity), {
        auth: 'customer',
        params: ItemParams,
        body: SetQuantityBody,
        response: { 200: Cart, 403: Problem, 404: Problem, 409: LineRefused, 503: Unavailable },
        detail: { summary: 'Set the quantity of a line', description: 'Replaces the quantity of a line already in the cart (404 if there is none), within the stock.' },
      })
      .delete('/items/:product_id', ({ user, params }) => cart.remove(user.id, params.product_id), {
        auth: 'customer',
        params: ItemParams,
        response: { 200: Cart, 403: Problem, 404: Problem, 503: Unavailable },
        detail: { summary: 'Remove a line', description: 'The cart without that product.' },
      }),
  )
