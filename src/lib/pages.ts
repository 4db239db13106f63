import { invalid } from './errors'
import { decodeCursor, encodeCursor } from './models'

type Key = string | number

/**
 * The key a cursor carries (the last id of the previous page), or undefined for the first
 * page. A cursor this API did not hand out answers 422 rather than silently restarting.
 */
export function cursorAfter<K extends Key>(cursor: string | undefined, isKey: (value: unknown) => value is K): K | undefined {
  if (cursor === undefined || cursor === '') return undefined
  const key = decodeCursor<unknown>(cursor)
  if (!isKey(key)) throw invalid([{ field: 'cursor', message: 'Not a cursor this API gave out' }])
  return key
}

export const isStringKey = (value: unknown): value is string => typeof value === 'string' && value.length > 0
export const isIntegerKey = (value: unknown): value is number => Number.isSafeInteger(value)

/**
 * One page from rows fetched with `limit + 1` in key order: the extra row only tells that
 * a next page exists. Keys are time-ordered ids, so rows inserted meanwhile land after the
 * cursor and never shift a page.
 */
export function pageOf<Row, Dto>(rows: Row[], limit: number, keyOf: (row: Row) => Key, toDto: (row: Row) => Dto) {
  const page = rows.slice(0, limit)
  return { data: page.map(toDto), next_cursor: rows.length > limit ? encodeCursor(keyOf(page.at(-1)!)) : null }
}

export const DEFAULT_PAGE_SIZE = 20
