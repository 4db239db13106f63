import { QueryBuilder } from 'drizzle-orm/sqlite-core'
import { regions } from './schema'

/**
 * What a region says about the prices in it (currency, tax), as a subquery other modules
 * join in their own statements: a product list or a cart line would otherwise cost a second
 * query per request. SQLite flattens it, so the plan is the plain join's. Deleted regions
 * are included: products and orders still point at them.
 */
export const regionTerms = new QueryBuilder().select({ id: regions.id, currency: regions.currency, taxBps: regions.taxBps }).from(regions).as('region_terms')
