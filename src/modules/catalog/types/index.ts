import type { TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { invalid } from '../../../lib/errors'
import { book } from './book'
import { generic } from './generic'

export type Attributes = Record<string, unknown>

/**
 * What the catalog needs to know about one kind of product. Cart, orders and inventory
 * never look at a type: they see sku, title, price and stock only, so a new type is one
 * `register` call.
 */
export interface ProductType {
  /** Shape of `attributes` (TypeBox). */
  attributes: TSchema
  /** Checks beyond the shape, and the canonical form to store (a book's ISBN-10 becomes ISBN-13). Throws `invalid`. */
  normalize?(attributes: Attributes): Attributes
  /** The sku when the admin gives none; without it a sku is required. */
  defaultSku?(attributes: Attributes): string
  /** Words besides title and sku that `q` finds the product by. */
  searchTerms?(attributes: Attributes): string[]
  /** An attribute no two live products of this type in one region may share (a book's ISBN). */
  uniqueAttribute?: string
}

export class ProductTypes {
  private readonly types = new Map<string, ProductType>()

  register(name: string, type: ProductType) {
    this.types.set(name, type)
    return this
  }

  names() {
    return [...this.types.keys()]
  }

  get(name: string): ProductType {
    const type = this.types.get(name)
    if (!type) throw invalid([{ field: 'type', message: `Unknown product type; one of: ${this.names().join(', ')}` }])
    return type
  }

  /** Attributes checked against the type's schema and normalised, or a 422 naming each bad field. */
  attributesOf(type: ProductType, attributes: unknown): Attributes {
    const errors = [...Value.Errors(type.attributes, attributes)].map((e) => ({
      field: ['attributes', ...e.path.split('/').filter(Boolean)].join('.'),
      message: e.message,
    }))
    if (errors.length) throw invalid(errors)
    const checked = attributes as Attributes
    return type.normalize ? type.normalize(checked) : checked
  }
}

/** The types the shop sells out of the box; tests and deployments may register more. */
export const defaultProductTypes = () => new ProductTypes().register('book', book).register('generic', generic)
