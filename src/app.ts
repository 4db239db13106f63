import { Elysia } from 'elysia'
import type { Worker } from './lib/worker'
import type { AppDeps } from './deps'
import { httpErrors } from './plugins/http-errors'
import { docs } from './plugins/docs'
import { bodyTypes } from './plugins/body-parsing'
import { apiDescription } from './api-description'
import { pageLimit } from './plugins/page-limit'
import { auth } from './plugins/auth'
import { streamLimit } from './plugins/stream-limit'
import { accessTokens } from './lib/access-tokens'
import { fileUrlUnder } from './lib/file-urls'
import { AccountsService, RevokedAccounts, TOKEN_PATH, accountsRoutes } from './modules/accounts'
import { opsRoutes } from './modules/ops'
import { edge } from './plugins/edge'
import { JobQueue } from './modules/jobs'
import { CartService, cartRoutes, clearCart } from './modules/cart'
import { OrderLifecycle, OrderTracking, OrdersService, PAYMENT_CHECK_JOB, eraseOrderPersonalData, ordersRoutes } from './modules/orders'
import { Idempotency } from './modules/idempotency'
import { FakeGateway, PaymentsService, REFUND_JOB, VOID_JOB, WEBHOOK_DELIVERY_JOB, WEBHOOK_PATH, paymentsRoutes } from './modules/payments'
import { createFlashSale, flashSaleRoutes } from './modules/flash-sale'
import { RegionsService, regionsRoutes } from './modules/regions'
import { CatalogService, catalogRoutes, defaultProductTypes, regionHasProducts } from './modules/catalog'
import { InventoryService, inventoryRoutes } from './modules/inventory'

/** The contract's cap on open event streams per user. */
const STREAMS_PER_USER = 10

export function createApp(deps: AppDeps) {
  const { config, database, clock, logger, files, dataKeys, passwords, events } = deps
  const tokens = accessTokens(config.JWT_SECRET)
  const fileUrl = fileUrlUnder(config.PUBLIC_URL)
  const revoked = new RevokedAccounts({ database, events, clock })
  const accounts = new AccountsService({ database, tokens, clock, passwords, dataKeys, files, fileUrl, revoked, erasers: [eraseOrderPersonalData, clearCart] })
  const authPlugin = auth({
    tokens,
    currentRoles: (id) => accounts.users.currentRoles(id),
    isRevoked: (id) => revoked.has(id),
    streamLimit: streamLimit({ slots: deps.streamSlots, clock, logger, perUser: STREAMS_PER_USER }),
  })
  const regions = new RegionsService({ database, clock, hasProducts: regionHasProducts })
  const catalog = new CatalogService({ database, clock, files, fileUrl, types: deps.productTypes ?? defaultProductTypes(), cacheMs: config.CATALOG_CACHE_MS })
  const inventory = new InventoryService({ database, clock, onStockChanged: () => catalog.forget() })

  // Work that must happen once per instance; under WORKERS=N worker 0 does it (see README, "Every core").
  const background = deps.background ?? true
  const workers: Worker[] = [{ start: () => deps.whenReady(), stop() {} }]
  const front = edge({ config, tokens, clock, logger, metrics: deps.metrics, limiter: deps.limiter })
  const orderLifecycle = new OrderLifecycle({ database, events, logger })
  // Its backlog gauge is reported by the process that runs the jobs, so the instance's sum counts each job once.
  const jobs = new JobQueue({ database, clock, logger, metrics: background ? deps.metrics : undefined })
  workers.push({ start() {}, stop: () => events.close() }, revoked)
  // Stopped after everything that lands webhooks (the gateway, the reconciler, the jobs), before the event bus and the database: their detached after-commit work (a refund) finishes first.
  workers.push({ start() {}, stop: () => orderLifecycle.settled() })
  if (background) workers.push(jobs)
  const cart = new CartService({ database, clock })
  const idempotency = new Idempotency(config.DATA_KEY)
  const idempotencySweeper = idempotency.sweeper(database, clock, logger)
  if (background) workers.push(idempotencySweeper)
  const orders = new OrdersService({
    database,
    clock,
    dataKeys,
    lifecycle: orderLifecycle,
    // A closed order's stream stays open until the gateway has confirmed its voids and refunds.
    tracking: new OrderTracking({ database, events, logger, moneyInMotion: (id): Promise<boolean> => payments.moneyInMotion(id) }),
    idempotency,
    paymentCheckDelayMs: config.PAYMENT_CHECK_DELAY_MS,
    contacts: (q, ids) => accounts.users.contacts(q, ids),
    currentRoles: (id) => accounts.users.currentRoles(id),
  })
  const gateway = new FakeGateway({ database, webhookSecret: config.WEBHOOK_SECRET, clock, logger })
  const gatewayTimeoutMs = config.GATEWAY_TIMEOUT_MS
  const payments = new PaymentsService({ database, clock, logger, lifecycle: orderLifecycle, orders, gateway, idempotency, jobs, gatewayTimeoutMs, inFlightMs: 2 * gatewayTimeoutMs })
  orderLifecycle.onStatusChange(payments.onOrderStatus)
  // Money owed to someone is never given up: these retry with backoff (up to 10 min apart) until done.
  const owed = { maxAttempts: Number.POSITIVE_INFINITY }
  jobs.register(PAYMENT_CHECK_JOB, (payload) => payments.checkPayment(String(payload.order_id)), owed)
  jobs.register(VOID_JOB, (payload) => payments.voidPayment(String(payload.payment_id)), owed)
  jobs.register(REFUND_JOB, (payload) => payments.refundCharge(String(payload.charge_ref), payload.payment_id as string | undefined), owed)
  jobs.register(WEBHOOK_DELIVERY_JOB, (payload) => gateway.redeliver(String(payload.event_id)), owed)
  const reconciler = payments.reconciler(deps.metrics, config.RECONCILE_EVERY_MS)
  // Started once the routes exist (it sends webhooks still owed), then the reconciler; stopped before the jobs and the database: webhooks in flight land first.
  // Elsewhere than worker 0 only this process's own deliveries are waited for.
  workers.push(...(background ? [gateway, reconciler] : [{ start() {}, stop: () => gateway.stop() }]))
  const flashSale = createFlashSale({
    database,
    clock,
    logger,
    metrics: deps.metrics,
    queue: deps.flashSaleQueue,
    orders: orderLifecycle,
    events,
    runAllocator: config.FLASH_SALE_ALLOCATOR === 'on',
    background,
  })
  workers.push(...flashSale.workers)

  const bodies = { multipartRoutes: ['/v1/me/photo', '/v1/products/:id/image'], formRoutes: [TOKEN_PATH], rawBodyRoutes: [WEBHOOK_PATH] }
  const app = new Elysia({ normalize: false })
    .use(front.routing)
    .use(httpErrors({ logger, ...bodies }))
    .use(pageLimit)
    .use(front.plugins)
    .use(docs({ path: '/swagger', ...apiDescription, bodyTypesOf: bodyTypes(bodies) }))
    .use(
      opsRoutes({
        probes: [{ name: 'database', check: () => database.ping() }, { name: 'files', check: () => files.ping() }, ...deps.probes],
        metrics: deps.exposition ?? deps.metrics,
        metricsToken: config.METRICS_TOKEN,
        metricsNeedToken: config.NODE_ENV === 'production',
      }),
    )
    .use(accountsRoutes(accounts, authPlugin))
    .use(cartRoutes(cart, authPlugin))
    .use(ordersRoutes(orders, authPlugin))
    .use(paymentsRoutes(payments, authPlugin))
    .use(regionsRoutes(regions, authPlugin))
    .use(catalogRoutes(catalog, authPlugin))
    .use(inventoryRoutes(inventory, authPlugin))
    .use(flashSaleRoutes(flashSale.service, flashSale.campaigns, flashSale.changes, authPlugin))

  // The fake gateway reports like a real one: a signed POST to the webhook route.
  gateway.connect((body, signature) =>
    app.handle(new Request(`http://localhost${WEBHOOK_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', 'shop-signature': signature }, body })),
  )

  return {
    app,
    services: { idempotencySweeper, accounts, tokens, regions, catalog, inventory, events, orderLifecycle, jobs, cart, orders, payments, gateway, reconciler, flashSale },
    /** Start-up work that needs the database (the configured admin), then the background workers. */
    async start() {
      await accounts.sessions.prepare()
      if (background && config.ADMIN_EMAIL && config.ADMIN_PASSWORD) await accounts.users.ensureAdmin(config.ADMIN_EMAIL, config.ADMIN_PASSWORD)
      for (const worker of workers) await worker.start()
    },
    /** Stops background work, last started first. The caller closes the database afterwards. */
    async stop() {
      for (const worker of [...workers].reverse()) await worker.stop()
    },
  }
}

export type Shop = ReturnType<typeof createApp>
/**
 * The HTTP API as a type, for typed clients: a TypeScript storefront gets every route's body,
 * query and answers with Eden Treaty (`treaty<App>(url)`) and no code generation (README,
 * "Build a storefront"). A type only: importing it pulls no server code into a bundle.
 */
export type App = Shop['app']
