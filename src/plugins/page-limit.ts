import { Elysia } from 'elysia'
import { MAX_PAGE_SIZE } from '../lib/models'

/**
 * `?limit=` arrives as text: a whole number becomes a number here, before validation, and
 * above the maximum it is served the maximum (capped, not refused: lists stay usable for naive
 * clients). Anything else is left as it came, for validation to refuse (422). Converting here
 * rather than through a transforming schema spares every list request TypeBox's uncompiled
 * decode, which Elysia ran twice per request.
 */
export const pageLimit = new Elysia({ name: 'page-limit' }).onTransform({ as: 'global' }, ({ query }) => {
  const limit: unknown = query.limit
  if (typeof limit !== 'string' || limit.trim() === '') return
  const value = Number(limit)
  if (Number.isInteger(value)) (query as Record<string, unknown>).limit = Math.min(value, MAX_PAGE_SIZE)
})
