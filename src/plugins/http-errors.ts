import { Elysia, ValidationError } from 'elysia'
import { AppError, type ErrorCode, type FieldError } from '../lib/errors'
import type { Logger } from '../lib/logger'
import { newId } from '../lib/ids'
import { isRedisOutage } from '../infra/redis'

const JSON_BODY_LIMIT = 64 * 1024
/** The largest body any route takes: a 5 MB photo plus its multipart framing. */
export const MAX_BODY_BYTES = 6 * 1024 * 1024
/**
 * Bun's own cap, far above ours: past it Bun answers a bare 413 before any hook runs, so
 * ours must trip first (declared lengths at once, streamed bodies as they arrive).
 */
export const SERVER_BODY_CAP_BYTES = 64 * 1024 * 1024

export interface HttpErrorsOptions {
  logger: Logger
  /** Route templates that take multipart bodies; every other route takes JSON only. */
  multipartRoutes: string[]
  /**
   * Route templates whose handler gets the body's exact bytes (a `Uint8Array`, empty when there
   * is none), whatever the content type: a signed webhook checks its signature before parsing.
   */
  rawBodyRoutes?: string[]
}

const requestIds = new WeakMap<Request, string>()
/** The id of this request, echoed in `X-Request-Id`, problem bodies and logs. */
export const requestIdOf = (request: Request) => requestIds.get(request) ?? 'unknown'

export function problem(status: number, code: ErrorCode, detail: string, requestId: string, more: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const body = { type: `urn:shop:problem:${code}`, title: titleOf(status), status, detail, code, request_id: requestId, ...more }
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/problem+json', 'x-request-id': requestId, ...headers },
  })
}

const titles: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 409: 'Conflict', 413: 'Content Too Large', 415: 'Unsupported Media Type',
  422: 'Unprocessable Content', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable',
}
const titleOf = (status: number) => titles[status] ?? 'Error'

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

/** The body's bytes, refused as soon as it passes `JSON_BODY_LIMIT` (a chunked body has no length to check first). */
async function readLimited(request: Request): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of request.body ?? []) {
    size += chunk.byteLength
    if (size > JSON_BODY_LIMIT) throw new AppError(413, 'payload_too_large', `This body is limited to ${JSON_BODY_LIMIT / 1024} KiB`)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

const tooLarge = (requestId: string) => problem(413, 'payload_too_large', `Request body is over the limit`, requestId)

interface ErrorContext {
  code: unknown
  error: unknown
  request: Request
  route?: string
}

/** The problem+json answer for anything thrown while handling a request. */
function renderError(logger: Logger, { code, error: thrown, request, route }: ErrorContext): Response {
  const id = requestIdOf(request)
  // Elysia wraps whatever a parser throws in a ParseError; ours are AppErrors.
  const error = code === 'PARSE' && (thrown as Error).cause instanceof AppError ? (thrown as Error).cause : thrown
  if (error instanceof AppError) {
    const more: Record<string, unknown> = { ...error.extra }
    if (error.errors) more.errors = error.errors
    return problem(error.status, error.code, error.message, id, more, error.headers)
  }
  if (code === 'VALIDATION' && error instanceof ValidationError && error.type !== 'response') {
    const errors = fieldErrors(error)
    return problem(422, 'validation_failed', 'The request is not valid', id, { errors })
  }
  if (code === 'PARSE') return problem(400, 'malformed_json', 'The body could not be parsed', id)
  if (code === 'NOT_FOUND') return problem(404, 'not_found', 'No such route', id)
  if (code === 'INVALID_FILE_TYPE') return problem(415, 'unsupported_media_type', 'Unsupported file type', id)
  const status = (error as { status?: number }).status
  if (status === 413) return tooLarge(id)
  if (isRedisOutage(error)) {
    logger.warn('redis unavailable', { request_id: id, route, error: String(error) })
    return problem(503, 'service_unavailable', 'A dependency is unavailable; try again shortly', id, {}, { 'retry-after': '5' })
  }
  logger.error('unhandled error', { request_id: id, route, code, error: String(error), stack: (error as Error)?.stack })
  return problem(500, 'internal', 'Something went wrong on our side; quote the request id if you report it', id)
}

/**
 * Turns every failure into RFC 9457 problem+json with a stable `code`, refuses bodies
 * the route cannot take (415) or that are too large (413), and never lets a message or
 * stack of an unexpected error reach the client.
 */
export const httpErrors = ({ logger, multipartRoutes, rawBodyRoutes = [] }: HttpErrorsOptions) => {
  const multipart = new Set(multipartRoutes)
  const raw = new Set(rawBodyRoutes)
  return new Elysia({ name: 'http-errors' })
    .onRequest(({ request, set }) => {
      const id = newId()
      requestIds.set(request, id)
      set.headers['x-request-id'] = id
      if (Number(request.headers.get('content-length') ?? 0) > MAX_BODY_BYTES) return tooLarge(id)
    })
    .onParse({ as: 'global' }, async ({ request, contentType, route }) => {
      if (raw.has(route)) return readLimited(request)
      const length = request.headers.get('content-length')
      if (length === '0' || (length === null && !request.headers.has('transfer-encoding'))) return
      const type = contentType?.split(';')[0]?.trim().toLowerCase()
      if (type === 'multipart/form-data' && multipart.has(route)) return
      if (multipart.has(route)) throw new AppError(415, 'unsupported_media_type', 'Send this as multipart/form-data')
      if (type !== 'application/json' && !type?.endsWith('+json')) {
        throw new AppError(415, 'unsupported_media_type', 'Send a JSON body with Content-Type: application/json')
      }
      const text = new TextDecoder().decode(await readLimited(request))
      if (text.length === 0) return undefined
      try {
        return JSON.parse(text)
      } catch {
        throw new AppError(400, 'malformed_json', 'The body is not valid JSON')
      }
    })
    .onError({ as: 'global' }, (context) => {
      const answer = renderError(logger, context)
      // Later hooks (request log, metrics) read the status from here.
      context.set.status = answer.status
      return answer
    })
}
