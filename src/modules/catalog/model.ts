import { t } from 'elysia'
import { Id, ImageBytes, Int, Page, PageQuery, Problem, query, strictObject, Timestamp } from '../../lib/models'
import { Text } from '../../lib/text'

const MAX_MINOR_UNITS = 1_000_000_000_000
const Title = Text({ blank: false, maxLength: 200 })
const Sku = t.String({ minLength: 1, maxLength: 64, pattern: '^[^\\s\\u0000-\\u001f\\u007f]+$', description: 'No spaces; unique in the region' })
const Description = Text({ multiline: true, maxLength: 5000 })
const ImageUrl = t.String({ format: 'uri', pattern: '^https://', maxLength: 2048, description: 'https only; the server never fetches it' })
const Price = Int({ minimum: 0, maximum: MAX_MINOR_UNITS, description: "Minor units of the region's currency" })
const CategoryIds = t.Array(Id, { maxItems: 20, uniqueItems: true })
const Attributes = t.Record(t.String(), t.Unknown(), { description: "Per type: a book's are { isbn, author, publisher }; a generic product's are free" })

export const Product = t.Object({
  id: t.String(),
  type: t.String(),
  sku: t.String(),
  title: t.String(),
  description: t.String(),
  image_url: t.Union([t.String(), t.Null()], { description: 'The image stored by PUT …/image (a path on this server, absolute under PUBLIC_URL), or an https URL set by PATCH' }),
  price: Int(),
  currency: t.String(),
  region_id: t.String(),
  stock: Int(),
  category_ids: t.Array(t.String()),
  attributes: t.Record(t.String(), t.Unknown()),
  created_at: Timestamp,
  updated_at: Timestamp,
})

export const CreateProductBody = strictObject(
  {
    type: t.String({ minLength: 1, maxLength: 40, description: 'A registered product type: book, generic, …' }),
    region_id: Id,
    sku: t.Optional(Sku),
    title: Title,
    description: t.Optional(Description),
    image_url: t.Optional(t.Union([ImageUrl, t.Null()])),
    price: Price,
    stock: t.Optional(Int({ minimum: 0, maximum: 1_000_000_000, description: 'Initial stock, written to the ledger as an adjustment' })),
    category_ids: t.Optional(CategoryIds),
    attributes: t.Optional(Attributes),
  },
  { examples: [{ type: 'generic', region_id: '0196f1c2-7a3b-7c4d-9e5f-0a1b2c3d4e5f', sku: 'MUG-001', title: 'Enamel mug', description: 'Blue, 350 ml', price: 3990, stock: 50 }] },
)

export const PatchProductBody = strictObject(
  {
    sku: t.Optional(Sku),
    title: t.Optional(Title),
    description: t.Optional(Description),
    image_url: t.Optional(t.Union([ImageUrl, t.Null()])),
    price: t.Optional(Price),
    category_ids: t.Optional(CategoryIds),
    attributes: t.Optional(Attributes),
  },
  { examples: [{ price: 3490, description: 'Blue, 350 ml; dishwasher safe' }] },
)

// Read from the query string as digits and made numbers by the service: a transforming schema would cost every list request a decode.
const MinorUnits = (description: string) => t.String({ pattern: '^\\d{1,13}$', description })

export const ProductsQuery = query({
  region_id: t.Optional(Id),
  type: t.Optional(t.String({ maxLength: 40 })),
  category_id: t.Optional(Id),
  q: t.Optional(t.String({ maxLength: 200, description: 'Words of the title, author, sku or ISBN (prefixes match)' })),
  min_price: t.Optional(MinorUnits('Lowest price, in minor units (inclusive)')),
  max_price: t.Optional(MinorUnits('Highest price, in minor units (inclusive)')),
  in_stock: t.Optional(t.UnionEnum(['true', 'false'], { default: undefined, description: '`true`: only products with stock; `false`: only sold-out ones' })),
  ...PageQuery,
})
export const ProductPage = Page(Product)
export const ProductParams = t.Object({ id: Id })

export const Category = t.Object({ id: t.String(), name: t.String(), created_at: Timestamp })
export const CreateCategoryBody = strictObject({ name: Text({ blank: false, maxLength: 100 }) }, { examples: [{ name: 'Kitchen' }] })
export const CategoryParams = t.Object({ id: Id })
export const ImageBody = t.Object({ image: t.File({ description: 'JPEG, PNG or WebP, at most 5 MB; stored re-encoded as WebP without metadata' }) })
export const ImageParams = t.Object({ key: t.String({ pattern: '^[0-9a-f-]{36}\\.webp$' }) })
export const ProductImageBytes = ImageBytes('image/webp', 'The image, re-encoded as WebP')
export const CategoriesQuery = query({ ...PageQuery })
export const CategoryPage = Page(Category)

export { Problem }
export type ProductDto = typeof Product.static
export type CreateProductInput = typeof CreateProductBody.static
export type PatchProductInput = typeof PatchProductBody.static
export type ProductsFilter = typeof ProductsQuery.static
