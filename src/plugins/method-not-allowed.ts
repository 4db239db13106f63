import { Elysia } from 'elysia'
import type { RouteIndex } from '../lib/route-index'
import { problemVia, requestIdOf } from './problems'

/**
 * A path that exists with other methods (`PUT /v1/regions`) answers 405 `method_not_allowed`
 * with `Allow`, not 404. Asked only when routing found nothing. Use it before http-errors,
 * whose error hook would answer 404 first.
 */
export const methodNotAllowed = (routes: RouteIndex) =>
  new Elysia({ name: 'method-not-allowed' }).onError({ as: 'global' }, ({ code, route, path, request, set }) => {
    if (code !== 'NOT_FOUND' || route) return
    const allowed = routes.methodsAt(path)
    if (allowed.length === 0) return
    return problemVia(set, 405, 'method_not_allowed', `${request.method} is not allowed here; use ${allowed.join(', ')}`, requestIdOf(request), {}, { allow: allowed.join(', ') })
  })
