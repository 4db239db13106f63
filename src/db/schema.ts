// Every module's tables, gathered for drizzle's relational queries. Migrations are per
// module (src/db/modules.ts); add a module's schema here when it gets one.
export * from '../modules/accounts/schema'
export * from '../modules/regions/schema'
export * from '../modules/catalog/schema'
export * from '../modules/inventory/schema'
export * from '../modules/orders/schema'
export * from '../modules/idempotency/schema'
export * from '../modules/jobs/schema'
export * from '../modules/flash-sale/schema'
export * from '../modules/cart/schema'
export * from '../modules/payments/schema'
