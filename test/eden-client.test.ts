/**
 * A TypeScript storefront on Eden Treaty: the app's type (`App`, src/app.ts) gives every call
 * its body, query and answers, with no generated code. This file is type-checked with the rest
 * (`bun run typecheck`): the `@ts-expect-error` lines prove the types refuse what the API refuses.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { treaty } from '@elysiajs/eden'
import type { App } from '../src/app'
import { startShop, type TestShop } from './support/harness'
import { address } from './support/shopping'

let s: TestShop
beforeAll(async () => {
  s = await startShop()
})
afterAll(() => s.close())

test('a storefront signs up, finds a product, checks out and follows its order through typed calls against the real server', async () => {
  const api = treaty<App>(s.url)

  // The admin's side, typed the same way: a region and a product.
  const admin = treaty<App>(s.url, { headers: { authorization: `Bearer ${(await s.admin()).token}` } })
  const region = await admin.v1.regions.post({ title: 'Brasil', country: 'BR', currency: 'BRL', tax: 1000 })
  expect(region.status).toBe(201)
  const regionId = region.data!.id
  const created = await admin.v1.products.post({ type: 'generic', region_id: regionId, sku: 'MUG-EDEN', title: 'Caneca', price: 4500, stock: 3, attributes: { colour: 'blue' } })
  expect(created.status).toBe(201)

  const signUp = await api.v1.auth.register.post({ email: `eden-${crypto.randomUUID().slice(0, 8)}@example.com`, name: 'Ana', password: 'a fine long passphrase' })
  expect(signUp.status).toBe(201)
  const token: string = signUp.data!.access_token
  const me = treaty<App>(s.url, { headers: { authorization: `Bearer ${token}` } })

  const page = await api.v1.products.get({ query: { region_id: regionId, in_stock: 'true', max_price: '5000', limit: 10 } })
  expect(page.status).toBe(200)
  const [mug] = page.data!.data
  const price: number = mug!.price
  expect([mug!.sku, price, mug!.currency]).toEqual(['MUG-EDEN', 4500, 'BRL'])

  const cart = await me.v1.cart.items.post({ product_id: mug!.id, quantity: 2 })
  expect([cart.data!.subtotal, cart.data!.total]).toEqual([9000, 9900])
  const order = await me.v1.orders.post({ shipping_address: address, customer_name: 'Ana' })
  expect(order.status).toBe(201)
  const orderId = order.data!.id
  const fetched = await me.v1.orders({ id: orderId }).get()
  expect(fetched.data!.status).toBe('pending_payment')
  expect(fetched.data!.items.map((i) => [i.sku, i.quantity])).toEqual([['MUG-EDEN', 2]])

  // A ticket for EventSource, and the stream it opens (Eden builds the URL; EventSource reads it).
  const ticket = await me.v1.auth['stream-ticket'].post()
  expect(ticket.status).toBe(201)
  expect(ticket.data!.expires_in).toBe(300)
  const stream = await fetch(`${s.url}/v1/orders/${orderId}/events?ticket=${ticket.data!.ticket}`)
  expect(stream.headers.get('content-type')).toBe('text/event-stream')
  await stream.body?.cancel()

  // Errors arrive typed by status, as problem details.
  const wrong = await api.v1.auth.login.post({ email: 'nobody@example.com', password: 'not this one' })
  expect(wrong.data).toBeNull()
  expect(wrong.error!.status).toBe(401)
  expect(wrong.error!.value).toMatchObject({ status: 401, code: 'invalid_credentials' })
})

test('the types refuse what the API refuses (checked by tsc, never sent)', () => {
  const api = treaty<App>('http://127.0.0.1:1')
  const neverCalled = () => {
    // @ts-expect-error price is an integer of minor units, not text
    void api.v1.products.post({ type: 'generic', region_id: 'r', sku: 's', title: 't', price: '45.00' })
    // @ts-expect-error a customer cannot set roles when signing up
    void api.v1.auth.register.post({ email: 'a@b.co', name: 'A', password: 'a fine long passphrase', roles: ['admin'] })
    // @ts-expect-error there is no such route
    void api.v1.coupons.get()
  }
  expect(typeof neverCalled).toBe('function')
})
