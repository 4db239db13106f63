import { and, asc, eq, gt, gte, isNull, lte, sql, type SQL } from 'drizzle-orm'
import { alias, type AnySQLiteColumn } from 'drizzle-orm/sqlite-core'
import { prepared, type Database, type Queryable } from '../../db/client'
import { encodeCursor } from '../../lib/models'
import { products } from './schema'

/**
 * The public catalog's reads as JSON text made by SQLite itself: a product is one text and a
 * page one `group_concat` of them, so a page is read as one value rather than 21 rows of 15
 * columns mapped into objects and serialised again (that was most of an uncached list
 * request). The text is kept made in the product's row (`json_head`, `json_middle`,
 * `json_tail`, written by triggers on every admin change: drizzle/catalog/0004), so a read
 * only joins it with what changes without one: `image_url` (`image_base`: the images path,
 * under PUBLIC_URL when set, then the stored image's key; or the linked URL), `stock` and
 * `updated_at`. Building it with json_object and the categories' subquery on every read was
 * ~25 µs of a 20-product page's ~68 in a loop. Keys come in `toProduct`'s order and SQLite
 * escapes strings as `JSON.stringify` does (test/catalog-json.test.ts holds both to it).
 */
const productObject = sql<string>`${products.jsonHead}
  || iif(${products.imageKey} <> '', json_quote(${sql.placeholder('image_base')} || ${products.imageKey}), json_quote(${products.imageUrl}))
  || ${products.jsonMiddle} || ${products.stock} || ${products.jsonTail} || json_quote(${products.updatedAt}) || '}'`

const productStatement = prepared((q) =>
  q
    .select({ json: productObject })
    .from(products)
    .where(and(eq(products.id, sql.placeholder('id')), isNull(products.deletedAt)))
    .prepare(),
)

/** A live product as JSON text (`Product`), or undefined, read through `q` (a write's handle sees the write). `imageBase`: what a stored image's key is appended to. */
export async function productJsonIn(q: Queryable, imageBase: string, id: string) {
  return (await productStatement(q).get({ id, image_base: imageBase }))?.json
}

/** The same, read on the read connection by `firstRow`: the public product route's read. */
export async function productJson(database: Database, imageBase: string, id: string) {
  return (await database.firstRow(productStatement(database.db), { id, image_base: imageBase }))?.[0] as string | undefined
}

/** What a page asks for; `match` is an FTS5 query (search.ts), `after` the cursor's key. */
export interface PageParams {
  limit: number
  region_id?: string
  type?: string
  category_id?: string
  match?: string
  min_price?: number
  max_price?: number
  /** true: only products with stock; false: only sold-out ones. */
  in_stock?: boolean
  after?: string
}

/** `products`, or an alias of it. */
type ProductsTable = Record<'id' | 'regionId' | 'type' | 'price' | 'stock' | 'deletedAt', AnySQLiteColumn>
/** The optional filters, each a condition on `products` or an alias of it. A request's shape is the set it uses. */
const FILTERS: { present: (p: PageParams) => boolean; on: (t: ProductsTable) => SQL }[] = [
  { present: (p) => Boolean(p.region_id), on: (t) => eq(t.regionId, sql.placeholder('region_id')) },
  { present: (p) => Boolean(p.type), on: (t) => eq(t.type, sql.placeholder('type')) },
  { present: (p) => Boolean(p.category_id), on: (t) => sql`${t.id} IN (SELECT product_id FROM product_categories WHERE category_id = ${sql.placeholder('category_id')})` },
  { present: (p) => Boolean(p.match), on: (t) => sql`${t.id} IN (SELECT product_id FROM products_fts WHERE products_fts MATCH ${sql.placeholder('match')})` },
  { present: (p) => p.min_price !== undefined, on: (t) => gte(t.price, sql.placeholder('min_price')) },
  { present: (p) => p.max_price !== undefined, on: (t) => lte(t.price, sql.placeholder('max_price')) },
  { present: (p) => p.in_stock === true, on: (t) => gt(t.stock, 0) },
  { present: (p) => p.in_stock === false, on: (t) => eq(t.stock, 0) },
]
const shapeOf = (params: PageParams) => FILTERS.reduce((shape, filter, i) => (filter.present(params) ? shape | (1 << i) : shape), 0)
const conditions = (t: ProductsTable, shape: number) => [isNull(t.deletedAt), ...FILTERS.flatMap((filter, i) => (shape & (1 << i) ? [filter.on(t)] : []))]

/**
 * One statement per shape (with or without a cursor), built once: the page's items joined
 * with commas (as UTF-8 bytes: see `pageBody`), its last id and whether a later product matches. That check runs only for a
 * full page (CASE is lazy), so a search with fewer hits than the page size matches once.
 * The items are joined in the order the page yields them: with its LIMIT the page is a
 * co-routine SQLite cannot flatten into the aggregate, stepped in its ORDER BY. An ORDER BY
 * inside group_concat would sort the page's text again (11 µs of ~60 for 20 products in a
 * loop, 13 µs a request in the server); test/catalog-json checks the order of every shape.
 */
const pageStatement = (shape: number, fromCursor: boolean) =>
  prepared((q) => {
    const limit = sql.placeholder('limit')
    const page = q
      .select({ id: products.id, json: productObject.as('json') })
      .from(products)
      .where(and(...conditions(products, shape), fromCursor ? gt(products.id, sql.placeholder('after')) : undefined))
      .orderBy(asc(products.id))
      .limit(limit)
      .as('page')
    const summary = q
      .select({
        items: sql<Uint8Array | null>`CAST(group_concat(${page.json}, ',') AS BLOB)`.as('items'),
        last: sql<string | null>`max(${page.id})`.as('last'),
        count: sql<number>`count(*)`.as('count'),
      })
      .from(page)
      .as('summary')
    const later = alias(products, 'later')
    const laterExists = q
      .select({ one: sql`1` })
      .from(later)
      .where(and(...conditions(later, shape), gt(later.id, summary.last)))
    return q
      .select({ items: summary.items, last: summary.last, more: sql<number>`CASE WHEN ${summary.count} = ${limit} THEN EXISTS ${laterExists} ELSE 0 END` })
      .from(summary)
      .prepare()
  })

const pageStatements = new Map<number, ReturnType<typeof pageStatement>>()

const encoder = new TextEncoder()
const PAGE_HEAD = encoder.encode('{"data":[')

/**
 * A page's answer as bytes: the items come from SQLite as a blob and are copied in as they
 * are. Read as text, accented titles made the driver decode the page's UTF-8 into a string
 * that the Response then encoded back (~10 µs of a 9.5 KB page in a loop, and the Response's
 * encoding besides).
 */
function pageBody(items: Uint8Array | null, next: string) {
  const tail = encoder.encode(`],"next_cursor":${next}}`)
  const length = items?.byteLength ?? 0
  const body = new Uint8Array(PAGE_HEAD.length + length + tail.length)
  body.set(PAGE_HEAD)
  if (items) body.set(items, PAGE_HEAD.length)
  body.set(tail, PAGE_HEAD.length + length)
  return body
}

export const EMPTY_PAGE = pageBody(null, 'null')

/** A page of live products as UTF-8 JSON (`ProductPage`), in id order, read by `firstRow`. `imageBase`: what a stored image's key is appended to. */
export async function pageJson(database: Database, imageBase: string, params: PageParams) {
  const key = (shapeOf(params) << 1) | (params.after === undefined ? 0 : 1)
  let statement = pageStatements.get(key)
  if (!statement) pageStatements.set(key, (statement = pageStatement(key >> 1, (key & 1) === 1)))
  const { limit, region_id, type, category_id, match, min_price, max_price, after } = params
  const values = { limit, region_id, type, category_id, match, min_price, max_price, after, image_base: imageBase }
  const [items = null, last, more] = (await database.firstRow(statement(database.db), values)) ?? []
  return pageBody(items as Uint8Array | null, more ? JSON.stringify(encodeCursor(last)) : 'null')
}
