/**
 * Each module owns its tables and its migrations (`drizzle/<module>/`, own journal table),
 * so modules evolve without touching each other's history. Applied in this order, which
 * follows the foreign keys.
 */
export const MIGRATION_MODULES = ['accounts', 'regions', 'catalog', 'inventory', 'cart', 'orders', 'idempotency', 'payments', 'jobs', 'flash-sale'] as const
export type MigrationModule = (typeof MIGRATION_MODULES)[number]
