import { Elysia, ValidationError } from 'elysia'
import { AppError, type FieldError } from '../lib/errors'
import type { Logger } from '../lib/logger'
import { arrive } from './request-state'
import { isRedisOutage } from '../infra/redis'
import { cannotWrite } from '../db/errors'
import { bodyParser, MAX_BODY_BYTES, type BodyRoutes } from './body-parsing'
import { problemVia, requestIdOf, type ResponseSet } from './problems'

export interface HttpErrorsOptions extends BodyRoutes {
  logger: Logger
}

/** `/address/postal_code` → `address.postal_code`; a missing property names itself. */
function fieldErrors(error: ValidationError): FieldError[] {
  const seen = new Set<string>()
  const out: FieldError[] = []
  for (const e of error.all as { path?: string; message: string; summary?: string; schema?: { title?: string } }[]) {
    const field = (e.path ?? '').replace(/^\//, '').replaceAll('/', '.') || e.schema?.title || 'body'
    if (seen.has(field)) continue
    seen.add(field)
    out.push({ field, message: e.summary ?? e.message })
  }
  return out
}

interface ErrorContext {
  code: unknown
  error: unknown
  request: Request
  route?: string
  set: ResponseSet
}

/** The problem+json answer for anything thrown while handling a request, through `set`. */
function renderError(logger: Logger, { code, error: thrown, request, route, set }: ErrorContext): string {
  const id = requestIdOf(request)
  // Elysia wraps whatever a parser throws in a ParseError; ours are AppErrors.
  const error = code === 'PARSE' && (thrown as Error).cause instanceof AppError ? (thrown as Error).cause : thrown
  if (error instanceof AppError) {
    const more: Record<string, unknown> = { ...error.extra }
    if (error.errors) more.errors = error.errors
    return problemVia(set, error.status, error.code, error.message, id, more, error.headers)
  }
  if (code === 'VALIDATION' && error instanceof ValidationError && error.type !== 'response') {
    const errors = fieldErrors(error)
    return problemVia(set, 422, 'validation_failed', 'The request is not valid', id, { errors })
  }
  if (code === 'PARSE') return problemVia(set, 400, 'malformed_json', 'The body could not be parsed', id)
  if (code === 'NOT_FOUND') return problemVia(set, 404, 'not_found', 'No such route', id)
  if (code === 'INVALID_FILE_TYPE') return problemVia(set, 415, 'unsupported_media_type', 'Unsupported file type', id)
  const status = (error as { status?: number }).status
  if (status === 413) return problemVia(set, 413, 'payload_too_large', 'Request body is over the limit', id)
  if (isRedisOutage(error)) {
    logger.warn('redis unavailable', { request_id: id, route, error: String(error) })
    return problemVia(set, 503, 'service_unavailable', 'A dependency is unavailable; try again shortly', id, {}, { 'retry-after': '5' })
  }
  const unwritable = cannotWrite(error)
  if (unwritable) {
    // The operator's problem (a full disk, a lock held elsewhere), logged as such; the client may retry: its write was rolled back whole.
    logger.error('database cannot write', { request_id: id, route, code: unwritable.code, error: unwritable.message })
    return problemVia(set, 503, 'service_unavailable', 'The database cannot take writes right now; nothing was written, try again shortly', id, {}, { 'retry-after': '5' })
  }
  logger.error('unhandled error', { request_id: id, route, code, error: String(error), stack: (error as Error)?.stack })
  return problemVia(set, 500, 'internal', 'Something went wrong on our side; quote the request id if you report it', id)
}

/**
 * Turns every failure into RFC 9457 problem+json with a stable `code`, refuses bodies
 * the route cannot take (415) or that are too large (413, see body-parsing.ts), and never
 * lets a message or stack of an unexpected error reach the client.
 */
export const httpErrors = ({ logger, ...bodies }: HttpErrorsOptions) => {
  const parse = bodyParser(bodies)
  return (
    new Elysia({ name: 'http-errors' })
      .onRequest(({ request, set }) => {
        const { id } = arrive(request)
        set.headers['x-request-id'] = id
        // Thrown (to renderError), not returned: the framework awaits, a microtask on every request, any hook whose source reads `return f(…)` or `=> f(…)`.
        if (Number(request.headers.get('content-length') ?? 0) > MAX_BODY_BYTES) throw new AppError(413, 'payload_too_large', 'Request body is over the limit')
      })
      .onParse({ as: 'global' }, parse)
      // Named fields only: a hook that takes the whole context makes the framework build all of
      // it (cookies, every header) for every request of every route.
      .onError({ as: 'global' }, ({ code, error, request, route, set }) => renderError(logger, { code, error, request, route, set }))
  )
}
