import { Elysia } from 'elysia'
import type { AuthPlugin } from '../../plugins/auth'
import { NoContent, Unavailable } from '../../lib/models'
import type { CartService } from './service'
import { AddItemBody, AddItemInvalid, Cart, ItemParams, Problem, SetQuantityBody } from './model'

const errors = { 401: Problem, 403: Problem, 404: Problem, 409: Problem, 415: Problem, 422: Problem, 429: Problem, 503: Unavailable }

export const cartRoutes = (cart: CartService, auth: AuthPlugin) =>
  new Elysia({ name: 'cart-routes' }).use(auth).group('/v1/cart', { detail: { tags: ['cart'] } }, (app) =>
    app
      .get('', ({ user }) => cart.get(user.id), { auth: 'customer', response: { 200: Cart, ...errors }, detail: { summary: 'My cart with totals' } })
      .delete('', async ({ user, status }) => status(204, await cart.clear(user.id)), {
        auth: 'customer',
        response: { 204: NoContent, ...errors },
        detail: { summary: 'Empty my cart' },
      })
      .post('/items', ({ user, body }) => cart.add(user.id, body.product_id, body.quantity), {
        auth: 'customer',
        body: AddItemBody,
        response: { 200: Cart, ...errors, 422: AddItemInvalid },
        detail: { summary: 'Add a product (the quantity adds to a line already there)' },
      })
      .patch('/items/:product_id', ({ user, params, body }) => cart.setQuantity(user.id, params.product_id, body.quantity), {
        auth: 'customer',
        params: ItemParams,
        body: SetQuantityBody,
        response: { 200: Cart, ...errors },
        detail: { summary: 'Set the quantity of a line' },
      })
      .delete('/items/:product_id', ({ user, params }) => cart.remove(user.id, params.product_id), {
        auth: 'customer',
        params: ItemParams,
        response: { 200: Cart, ...errors },
        detail: { summary: 'Remove a line' },
      }),
  )
