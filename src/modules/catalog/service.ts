import { and, eq, isNull, ne, sql } from 'drizzle-orm'
import type { Database, Queryable, Tx } from '../../db/client'
import type { Clock } from '../../lib/clock'
import type { FileStore } from '../../infra/storage'
import type { FileUrl } from '../../lib/file-urls'
import { processPhoto } from '../../lib/images'
import { conflict, invalid, notFound } from '../../lib/errors'
import { newId } from '../../lib/ids'
import { DEFAULT_PAGE_SIZE, cursorAfter, isStringKey } from '../../lib/pages'
import { liveRegion } from '../regions'
import { Categories, checkCategories, linkCategories } from './categories'
import { moveStock } from './ledger'
import type { CreateProductInput, PatchProductInput, ProductDto, ProductsFilter } from './model'
import { productCategories, products } from './schema'
import { ftsQuery } from './search'
import { EMPTY_PAGE, pageJson, productJson, productJsonIn } from './product-json'
import { TtlCache } from '../../lib/ttl-cache'
import type { Attributes, ProductType, ProductTypes } from './types'

/** A product's columns, less the JSON pieces its triggers write. */
type ProductRow = Omit<typeof products.$inferSelect, 'jsonHead' | 'jsonMiddle' | 'jsonTail'>

/** The ledger's `ref` of the stock a product is created with. */
const INITIAL_STOCK_REF = 'initial stock'

/** Product images are larger than avatars: a storefront shows them full width. */
const PRODUCT_IMAGE_EDGE = 1200

export const imagePath = (key: string) => `/v1/images/${key}`

const toProduct = (row: ProductRow, currency: string, categoryIds: string[], fileUrl: FileUrl): ProductDto => ({
  id: row.id,
  type: row.type,
  sku: row.sku,
  title: row.title,
  description: row.description,
  image_url: row.imageKey ? fileUrl(imagePath(row.imageKey)) : row.imageUrl,
  price: row.price,
  currency,
  region_id: row.regionId,
  stock: row.stock,
  category_ids: categoryIds,
  attributes: row.attributes,
  created_at: row.createdAt,
  updated_at: row.updatedAt,
})

const searchTermsOf = (type: ProductType, attributes: Attributes) => (type.searchTerms?.(attributes) ?? []).filter(Boolean).join(' ')

export interface CatalogDeps {
  database: Database
  clock: Clock
  types: ProductTypes
  /** Where product images are kept, and their URLs as clients see them (absolute under PUBLIC_URL when set). */
  files: FileStore
  fileUrl: FileUrl
  /**
   * How long a public page or product may be served from memory (0: never). Browsing is the
   * bulk of Black Friday traffic and each libSQL read costs far more than an HTTP answer;
   * stock shown there may lag by this much, while cart and checkout always read it live.
   */
  cacheMs?: number
}

export class CatalogService {
  // Kept serialised (a page as UTF-8 bytes): serialising a 20-product page was a third of the list's cost.
  private readonly pages: TtlCache<Uint8Array<ArrayBuffer>>
  private readonly products: TtlCache<string | undefined>
  /** What a stored image's key is appended to, to make its `image_url`. */
  private readonly imageBase: string
  readonly categories: Categories

  constructor(private readonly deps: CatalogDeps) {
    this.categories = new Categories(deps, (fn) => this.write(fn))
    this.imageBase = deps.fileUrl(imagePath(''))
    this.pages = new TtlCache(deps.cacheMs ?? 0)
    this.products = new TtlCache(deps.cacheMs ?? 0)
  }

  /** Drops cached pages: an admin change is visible at once on this instance (on others within `cacheMs`). */
  forget() {
    this.pages.clear()
    this.products.clear()
  }

  private async write<T>(fn: (tx: Tx) => Promise<T>) {
    const result = await this.deps.database.write(fn)
    this.forget()
    return result
  }

  /** A public page of products as UTF-8 JSON (`ProductPage`), served from the cache when fresh. */
  pageJson(filter: ProductsFilter) {
    const { region_id, type, category_id, q, min_price, max_price, in_stock, limit, cursor } = filter
    return this.pages.get(JSON.stringify([region_id, type, category_id, q, min_price, max_price, in_stock, limit, cursor]), () => this.loadPage(filter))
  }

  private async loadPage(filter: ProductsFilter) {
    const { limit = DEFAULT_PAGE_SIZE } = filter
    const after = cursorAfter(filter.cursor, isStringKey)
    const match = filter.q?.trim() ? ftsQuery(filter.q) : undefined
    if (match === null) return EMPTY_PAGE
    return pageJson(this.deps.database, this.imageBase, {
      limit,
      region_id: filter.region_id,
      type: filter.type,
      category_id: filter.category_id,
      match,
      min_price: filter.min_price === undefined ? undefined : Number(filter.min_price),
      max_price: filter.max_price === undefined ? undefined : Number(filter.max_price),
      in_stock: filter.in_stock === undefined ? undefined : filter.in_stock === 'true',
      after,
    })
  }

  /** A live product as JSON text (`Product`), served from the cache when fresh. */
  async productJson(id: string) {
    const json = await this.products.get(id, () => productJson(this.deps.database, this.imageBase, id))
    if (!json) throw notFound('Product')
    return json
  }

  /** A live product of `regionId` by sku (the seed finds what it made before this way). */
  async findBySku(regionId: string, sku: string) {
    const db = this.deps.database.db
    const row = await db
      .select({ id: products.id })
      .from(products)
      .where(and(eq(products.regionId, regionId), eq(products.sku, sku), isNull(products.deletedAt)))
      .get()
    return row && this.liveProduct(db, row.id)
  }

  /** A live product as the API shows it, read as the public reads it. */
  private async liveProduct(db: Queryable, id: string): Promise<ProductDto | undefined> {
    const json = await productJsonIn(db, this.imageBase, id)
    return json === undefined ? undefined : JSON.parse(json)
  }

  /** Creates a product; its initial stock enters through the ledger (reason `adjustment`, ref "initial stock"). */
  async create(actorId: string | null, input: CreateProductInput) {
    const { types } = this.deps
    const type = types.get(input.type)
    const attributes = types.attributesOf(type, input.attributes ?? {})
    const sku = input.sku ?? type.defaultSku?.(attributes)
    if (!sku) throw invalid([{ field: 'sku', message: `Required for ${input.type} products` }])
    const now = this.deps.clock.iso()
    const row: ProductRow = {
      id: newId(),
      regionId: input.region_id,
      type: input.type,
      sku,
      title: input.title.trim(),
      description: input.description ?? '',
      imageUrl: input.image_url ?? null,
      imageKey: null,
      price: input.price,
      stock: 0,
      attributes,
      searchTerms: searchTermsOf(type, attributes),
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
    }
    const categoryIds = input.category_ids ?? []
    return this.write(async (tx) => {
      const region = await liveRegion(tx, row.regionId)
      if (!region) throw invalid([{ field: 'region_id', message: 'No such region' }])
      await checkCategories(tx, categoryIds)
      await checkUnique(tx, row, type)
      await tx.insert(products).values(row)
      await linkCategories(tx, row.id, categoryIds)
      const initial = input.stock ? { productId: row.id, delta: input.stock, reason: 'adjustment' as const, ref: INITIAL_STOCK_REF, actorId } : undefined
      const stock = initial ? ((await moveStock(tx, initial, now)) ?? 0) : 0
      return toProduct({ ...row, stock }, region.currency, [...categoryIds].sort(), this.deps.fileUrl)
    })
  }

  /** Changes what the admin sent; `type`, `region_id` and `stock` are not patchable. */
  async update(id: string, patch: PatchProductInput) {
    const { types } = this.deps
    let replacedImage: string | null = null
    const product = await this.write(async (tx) => {
      const current = await tx
        .select()
        .from(products)
        .where(and(eq(products.id, id), isNull(products.deletedAt)))
        .get()
      if (!current) throw notFound('Product')
      const type = types.get(current.type)
      const attributes = patch.attributes ? types.attributesOf(type, patch.attributes) : current.attributes
      // Only the patchable columns: stock moves through the ledger alone.
      const changes = {
        sku: patch.sku ?? current.sku,
        title: patch.title?.trim() ?? current.title,
        description: patch.description ?? current.description,
        imageUrl: patch.image_url === undefined ? current.imageUrl : patch.image_url,
        // An image_url sent by the admin replaces a stored image (whose file goes after the commit).
        imageKey: patch.image_url === undefined ? current.imageKey : null,
        price: patch.price ?? current.price,
        attributes,
        searchTerms: searchTermsOf(type, attributes),
        updatedAt: this.deps.clock.iso(),
      }
      if (patch.sku !== undefined || patch.attributes) await checkUnique(tx, { ...current, ...changes }, type)
      if (patch.category_ids) {
        await checkCategories(tx, patch.category_ids)
        await tx.delete(productCategories).where(eq(productCategories.productId, id))
        await linkCategories(tx, id, patch.category_ids)
      }
      await tx.update(products).set(changes).where(eq(products.id, id))
      if (changes.imageKey !== current.imageKey) replacedImage = current.imageKey
      return (await this.liveProduct(tx, id))!
    })
    if (replacedImage) await this.deps.files.delete(replacedImage)
    return product
  }

  /** Stores an upload (the profile photo's rules: JPEG, PNG or WebP, at most 5 MB, re-encoded) as the product's image. */
  async setImage(id: string, upload: File) {
    await this.productJson(id)
    const bytes = await processPhoto(new Uint8Array(await upload.arrayBuffer()), PRODUCT_IMAGE_EDGE)
    const key = `${crypto.randomUUID()}.webp`
    await this.deps.files.put(key, bytes, 'image/webp')
    try {
      return await this.replaceImage(id, key)
    } catch (error) {
      await this.deps.files.delete(key)
      throw error
    }
  }

  /** Removes the product's image, stored or linked: `image_url` becomes null. */
  removeImage(id: string) {
    return this.replaceImage(id, null)
  }

  private async replaceImage(id: string, key: string | null) {
    const { previous, product } = await this.write(async (tx) => {
      const current = await tx
        .select({ imageKey: products.imageKey })
        .from(products)
        .where(and(eq(products.id, id), isNull(products.deletedAt)))
        .get()
      if (!current) throw notFound('Product')
      await tx.update(products).set({ imageKey: key, imageUrl: null, updatedAt: this.deps.clock.iso() }).where(eq(products.id, id))
      return { previous: current.imageKey, product: (await this.liveProduct(tx, id))! }
    })
    if (previous) await this.deps.files.delete(previous)
    return product
  }

  /** A stored product image's bytes. */
  async image(key: string) {
    const bytes = await this.deps.files.get(key)
    if (!bytes) throw notFound('Image')
    return bytes
  }

  /** Soft delete: gone from the catalog, still referenced by past orders and the ledger. */
  async delete(id: string) {
    const now = this.deps.clock.iso()
    const deleted = await this.write((tx) =>
      tx
        .update(products)
        .set({ deletedAt: now, updatedAt: now })
        .where(and(eq(products.id, id), isNull(products.deletedAt)))
        .returning({ id: products.id })
        .get(),
    )
    if (!deleted) throw notFound('Product')
  }
}

/** A live product of the region with the same sku, or the same unique attribute of its type (a book's ISBN), is a 409. */
async function checkUnique(tx: Tx, row: ProductRow, type: ProductType) {
  const key = type.uniqueAttribute
  const value = key ? row.attributes[key] : undefined
  const sameKey = key ? and(eq(products.type, row.type), sql`json_extract(${products.attributes}, ${`$.${key}`}) = ${value}`) : undefined
  const clash = await tx
    .select({ sku: products.sku })
    .from(products)
    .where(and(eq(products.regionId, row.regionId), isNull(products.deletedAt), ne(products.id, row.id), sameKey ? sql`(${eq(products.sku, row.sku)} OR ${sameKey})` : eq(products.sku, row.sku)))
    .get()
  if (!clash) return
  throw conflict(clash.sku === row.sku ? `Sku ${row.sku} is already used in this region` : `A product with ${key} ${value} already exists in this region`)
}
