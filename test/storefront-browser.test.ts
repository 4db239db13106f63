/**
 * A storefront in a real browser (headless Chromium, no internet): a page served from another
 * origin listed in CORS_ORIGINS signs a customer in over REST and follows an order's status
 * live with EventSource and a stream ticket, against the server as an operator runs it
 * (production, bound to 127.0.0.1, rate limits on). The server is restarted mid-stream; the
 * browser reconnects by itself with Last-Event-ID and gets exactly what it missed.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { openBrowserPage, type BrowserPage } from './support/browser'
import { eventually } from './support/eventually'
import { productionEnv, scratchDir, serverProcess } from './support/server-process'
import { address } from './support/shopping'

const freePort = () => {
  const probe = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response() })
  const port = probe.port!
  probe.stop(true)
  return port
}

const scratch = scratchDir()
const apiPort = freePort()
const api = `http://127.0.0.1:${apiPort}`
const ADMIN = { email: 'admin@storefront.test', password: randomBytes(12).toString('base64url') }

/** The storefront: another origin (another port), its page a plain script any shop would write. */
const storefront = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch: (request) => new Response(page(Object.fromEntries(new URL(request.url).searchParams)), { headers: { 'content-type': 'text/html; charset=utf-8' } }),
})
const origin = `http://127.0.0.1:${storefront.port}`

const env = {
  ...productionEnv(scratch.dir),
  PORT: String(apiPort),
  CORS_ORIGINS: origin,
  ADMIN_EMAIL: ADMIN.email,
  ADMIN_PASSWORD: ADMIN.password,
  // The streams are cut soon after SIGTERM; orders stay payable for the whole test.
  SHUTDOWN_GRACE_MS: '300',
  PAYMENT_CHECK_DELAY_MS: '600000',
}

function page(config: Record<string, string>) {
  return `<!doctype html><meta charset="utf-8"><title>Storefront</title>
<script type="application/json" id="config">${JSON.stringify({ api, ...config })}</script>
<script>
const config = JSON.parse(document.getElementById('config').textContent)
const storefront = (window.storefront = { events: [], states: [], errors: [] })
async function call(path, init = {}, token) {
  const headers = { ...(init.body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: 'Bearer ' + token } : {}) }
  const response = await fetch(config.api + path, { ...init, headers })
  if (!response.ok) throw new Error(path + ' answered ' + response.status)
  return { body: await response.json(), requestId: response.headers.get('x-request-id') }
}
async function main() {
  const login = await call('/v1/auth/login', { method: 'POST', body: JSON.stringify({ email: config.email, password: config.password }) })
  const token = login.body.access_token
  storefront.signedInAs = login.body.user.email
  storefront.requestId = login.requestId
  storefront.order = (await call('/v1/orders/' + config.orderId, {}, token)).body.status
  const { ticket } = (await call('/v1/auth/stream-ticket', { method: 'POST' }, token)).body
  const source = new EventSource(config.api + '/v1/orders/' + config.orderId + '/events?ticket=' + encodeURIComponent(ticket))
  source.addEventListener('status', (event) => storefront.events.push({ id: event.lastEventId, ...JSON.parse(event.data) }))
  source.onopen = () => storefront.states.push('open')
  source.onerror = () => storefront.states.push(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting')
}
main().catch((error) => storefront.errors.push(String(error)))
</script>`
}

let server = serverProcess(env)
let browser: BrowserPage
beforeAll(async () => {
  await server.url()
  browser = await openBrowserPage()
})
afterAll(async () => {
  await browser?.close()
  server.kill('SIGKILL')
  await server.exited()
  storefront.stop(true)
  scratch.remove()
})

/** A JSON call from the shop's side (not the browser); the answer is read loosely, as the harness reads it. */
async function rest(method: string, path: string, body?: unknown, token?: string): Promise<any> {
  const response = await fetch(api + path, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  })
  const answer = await response.json()
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(answer)}`)
  return answer
}

type Storefront = { events: { id: string; status: string; event?: string }[]; states: string[]; errors: string[]; signedInAs?: string; order?: string; requestId?: string }
const storefrontState = () => browser.page.evaluate(() => (globalThis as unknown as { storefront: Storefront }).storefront)

test('a page on a listed origin signs in over REST and follows an order live with EventSource and a ticket, resuming with Last-Event-ID after the server drops it', async () => {
  try {
    // The shop's side: a product, and a customer's order awaiting payment.
    const admin = await rest('POST', '/v1/auth/login', ADMIN)
    const region = await rest('POST', '/v1/regions', { title: 'Brasil', country: 'BR', currency: 'BRL', tax: 1000 }, admin.access_token)
    const product = await rest('POST', '/v1/products', { type: 'generic', region_id: region.id, sku: 'MUG-1', title: 'Caneca', price: 4500, stock: 5 }, admin.access_token)
    const customer = { email: 'ana@storefront.test', name: 'Ana', password: randomBytes(12).toString('base64url') }
    const signedUp = await rest('POST', '/v1/auth/register', customer)
    await rest('POST', '/v1/cart/items', { product_id: product.id, quantity: 1 }, signedUp.access_token)
    const order = await rest('POST', '/v1/orders', { shipping_address: address }, signedUp.access_token)

    const { page, requests } = browser
    const isStream = (url: string) => url.startsWith(`${api}/v1/orders/${order.id}/events`)
    await page.goto(`${origin}/?${new URLSearchParams({ email: customer.email, password: customer.password, orderId: order.id })}`)
    const first = await eventually(async () => {
      const state = await storefrontState()
      expect(state.errors).toEqual([])
      expect(state.events).toHaveLength(1)
      return state
    })
    expect(first).toMatchObject({ signedInAs: customer.email, order: 'pending_payment', states: ['open'] })
    // Headers exposed to the page by CORS.
    expect(first.requestId).toBeTruthy()
    expect(first.events[0]!.status).toBe('pending_payment')
    const stream = requests.filter((r) => isStream(r.url))
    expect(stream).toHaveLength(1)
    expect(stream[0]!.url).toContain('?ticket=')
    expect(stream[0]!.headers.authorization).toBeUndefined()

    // The server goes away mid-stream. The browser's reconnect is held until the order has
    // moved twice, so only a resume from Last-Event-ID can give the page both moves.
    browser.hold(isStream)
    server.kill('SIGTERM')
    expect(await server.exited()).toBe(0)
    await eventually(async () => expect((await storefrontState()).states).toContain('reconnecting'))
    server = serverProcess(env)
    await server.url()
    await rest('POST', `/v1/orders/${order.id}/payments`, { method: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2099, cvc: '123', holder: 'ANA' } }, signedUp.access_token)
    await eventually(async () => expect((await rest('GET', `/v1/orders/${order.id}`, undefined, signedUp.access_token)).status).toBe('paid'))
    const relogin = await rest('POST', '/v1/auth/login', ADMIN)
    await rest('PATCH', `/v1/orders/${order.id}`, { status: 'shipped' }, relogin.access_token)
    browser.release()

    await eventually(async () => expect((await storefrontState()).events.map((e) => e.status)).toEqual(['pending_payment', 'paid', 'shipped']))
    const reconnect = requests.filter((r) => isStream(r.url))[1]!
    expect(reconnect.headers['last-event-id']).toBe(first.events[0]!.id)

    // Live again; a final status (refunded) ends the stream and the browser stops (204 on its reconnect).
    await rest('PATCH', `/v1/orders/${order.id}`, { status: 'delivered' }, relogin.access_token)
    await eventually(async () => expect((await storefrontState()).events.at(-1)?.status).toBe('delivered'))
    await rest('POST', `/v1/orders/${order.id}/refund`, { reason: 'Arrived broken' }, relogin.access_token)
    const last = await eventually(async () => {
      const state = await storefrontState()
      expect(state.states.at(-1)).toBe('closed')
      return state
    })
    // The refund's timeline has two entries: the order refunded, its payment refunded (`event`).
    const labels = last.events.map((e) => (e.event ? `${e.status} (${e.event})` : e.status))
    expect(labels.slice(0, 4)).toEqual(['pending_payment', 'paid', 'shipped', 'delivered'])
    expect(labels.slice(4).sort()).toEqual(['refunded', 'refunded (payment_refunded)'])
    const ids = last.events.map((e) => Number(e.id))
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    expect(new Set(ids).size).toBe(ids.length)
    expect(last.errors).toEqual([])
    expect(browser.console.filter((line) => /CORS|Access-Control/i.test(line))).toEqual([])
    expect(browser.blocked).toEqual([])
  } catch (error) {
    const path = await browser.screenshot('storefront-failure').catch(() => 'not taken')
    console.error(`storefront browser test failed; screenshot: ${path}\nbrowser console:\n${browser.console.join('\n')}\nserver:\n${server.lines.slice(-30).join('\n')}`)
    throw error
  }
}, 90_000)
