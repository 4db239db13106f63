import { Type as T } from '@sinclair/typebox'
import { invalid } from '../../../lib/errors'
import { isbn13To10, toIsbn13 } from '../../../lib/isbn'
import { Text } from '../../../lib/text'
import type { ProductType } from '.'

const Name = Text({ blank: false, minLength: 1, maxLength: 200 })

/** A book: ISBN-10 or ISBN-13 in, ISBN-13 stored; the sku defaults to it. */
export const book: ProductType = {
  attributes: T.Object({ isbn: T.String({ maxLength: 32 }), author: Name, publisher: Name }, { additionalProperties: false }),
  normalize(attributes) {
    const isbn = toIsbn13(attributes.isbn as string)
    if (!isbn) throw invalid([{ field: 'attributes.isbn', message: 'Not a valid ISBN-10 or ISBN-13 (checksum failed or wrong length)' }])
    return { isbn, author: (attributes.author as string).trim(), publisher: (attributes.publisher as string).trim() }
  },
  defaultSku: (attributes) => attributes.isbn as string,
  searchTerms: (attributes) => {
    const isbn = attributes.isbn as string
    return [attributes.author as string, isbn, isbn13To10(isbn) ?? '']
  },
  uniqueAttribute: 'isbn',
}
