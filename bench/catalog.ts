/**
 * Browse and search: the product list (20 items), a product's detail and a `q` search,
 * mixed 50/30/20 by constant VUs. Anonymous, as most shoppers are.
 */
import http from './lib/http'
import { check } from './lib/k6'
import { runCli } from './lib/cli'
import type { Options } from './lib/options'
import type { Target } from './lib/target'
import { SEARCH_TERMS, catalogProducts, createProducts, createRegion } from './lib/shop'

export const PRODUCTS = 200

export const options: Options = {
  discardResponseBodies: false,
  scenarios: { browse: { executor: 'constant-vus', vus: 64, duration: '10s' } },
  thresholds: {
    http_req_failed: ['rate<0.001'],
    checks: ['rate==1'],
    'http_req_duration{name:list}': ['p(99)<100'],
    'http_req_duration{name:detail}': ['p(99)<100'],
    'http_req_duration{name:search}': ['p(99)<100'],
  },
}

export interface CatalogData {
  base: string
  productIds: string[]
}

/** A region with PRODUCTS books and gadgets, created through the admin API. */
export async function seedCatalog(target: Target): Promise<CatalogData> {
  const admin = await (await target.fixtures()).admin()
  const region = await createRegion(target.url, admin.token)
  const products = await createProducts(target.url, admin.token, catalogProducts(region.id, PRODUCTS, 1000))
  return { base: target.url, productIds: products.map((p) => p.id) }
}

export const setup = seedCatalog

const pick = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)]!

/** One shopper's step: the list, a product, or a search (also used by the mixed scenario). */
export async function browse({ base, productIds }: CatalogData, tags: Record<string, string> = {}) {
  const roll = Math.random()
  if (roll < 0.5) {
    const res = await http.get(`${base}/v1/products?limit=20`, { tags: { name: 'list', ...tags } })
    check(res, { 'list: 200 with 20 products': (r) => r.status === 200 && r.json().data.length === 20 })
  } else if (roll < 0.8) {
    const id = pick(productIds)
    const res = await http.get(`${base}/v1/products/${id}`, { tags: { name: 'detail', ...tags } })
    check(res, { 'detail: 200, the product asked for': (r) => r.status === 200 && r.json().id === id })
  } else {
    const res = await http.get(`${base}/v1/products?q=${encodeURIComponent(pick(SEARCH_TERMS))}&limit=20`, { tags: { name: 'search', ...tags } })
    check(res, { 'search: 200 with matches': (r) => r.status === 200 && r.json().data.length > 0 })
  }
}

export default function (data: CatalogData) {
  return browse(data)
}

if (import.meta.main) void runCli(import.meta.path)
