import { Elysia } from 'elysia'
import { MAX_PAGE_SIZE } from '../lib/models'

/** `?limit=` above the maximum is served the maximum: capped, not refused (lists stay usable for naive clients). */
export const pageLimit = new Elysia({ name: 'page-limit' }).onTransform({ as: 'global' }, ({ query }) => {
  if (query.limit !== undefined && Number(query.limit) > MAX_PAGE_SIZE) query.limit = String(MAX_PAGE_SIZE)
})
