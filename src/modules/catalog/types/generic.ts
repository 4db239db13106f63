import { Type as T } from '@sinclair/typebox'
import type { ProductType } from '.'

/** Anything else: free attributes (brand, colour, storage…) shown as given. */
export const generic: ProductType = {
  attributes: T.Record(T.String(), T.Unknown()),
}
