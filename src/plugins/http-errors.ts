import { Elysia, ValidationError } from 'elysia'
import { AppError, type ErrorCode, type FieldError } from '../lib/errors'
import type { Logger } from '../lib/logger'
import { arrive, stateOf } from './request-state'
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

/** The id of this request, echoed in `X-Request-Id`, problem bodies and logs. */
export const requestIdOf = (request: Request) => stateOf(request)?.id ?? 'unknown'

const PROBLEM_TYPE = 'application/problem+json'

type ResponseSet = { status?: number | string; headers: Record<string, string | number> }

/** The RFC 9457 body: `type`, `title`, `status`, `detail`, `code`, the request id, and what `more` adds. */
const problemBody = (status: number, code: ErrorCode, detail: string, requestId: string, more: Record<string, unknown>) => ({
  type: `urn:shop:problem:${code}`,
  title: titleOf(status),
  status,
  detail,
  code,
  request_id: requestId,
  ...more,
})
const problemJson = (status: number, code: ErrorCode, detail: string, requestId: string, more: Record<string, unknown>) =>
  JSON.stringify(problemBody(status, code, detail, requestId, more))

/** A problem+json answer on its own, for answers given before routing (413 on arrival, TRACE, 405). */
export function problem(status: number, code: ErrorCode, detail: string, requestId: string, more: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  return new Response(problemJson(status, code, detail, requestId, more), {
    status,
    headers: { 'content-type': PROBLEM_TYPE, 'x-request-id': requestId, ...headers },
  })
}

/**
 * The same answer for a route to return when a refusal is an expected outcome rather than
 * an error (a stampede's `sold_out`): `set` gets the status and headers, and the framework
 * serialises the body (checked against the route's Problem schema) into one Response.
 */
export function problemAnswer(set: ResponseSet, status: number, code: ErrorCode, detail: string, requestId: string, more: Record<string, unknown> = {}, headers?: Record<string, string>) {
  set.status = status
  set.headers['content-type'] = PROBLEM_TYPE
  if (headers) Object.assign(set.headers, headers)
  return problemBody(status, code, detail, requestId, more)
}

/**
 * The answer for a hook to return, through the request's `set` as well: the framework then
 * builds one Response carrying every header the request gathered (security headers, rate
 * limits), instead of copying a finished Response to merge them in.
 */
export const problemVia = (...args: Parameters<typeof problemAnswer>) => JSON.stringify(problemAnswer(...args))

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

/**
 * The body's bytes, refused past `JSON_BODY_LIMIT`: a declared length is checked before
 * reading (then the body is read natively in one go), a chunked body as it arrives.
 */
async function readLimited(request: Request): Promise<Uint8Array> {
  const declared = request.headers.get('content-length')
  if (declared !== null) {
    if (Number(declared) > JSON_BODY_LIMIT) throw bodyTooLarge()
    return new Uint8Array(await request.arrayBuffer())
  }
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of request.body ?? []) {
    size += chunk.byteLength
    if (size > JSON_BODY_LIMIT) throw bodyTooLarge()
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

const bodyTooLarge = () => new AppError(413, 'payload_too_large', `This body is limited to ${JSON_BODY_LIMIT / 1024} KiB`)

const decoder = new TextDecoder()

async function readJson(request: Request): Promise<unknown> {
  const text = decoder.decode(await readLimited(request))
  if (text.length === 0) return undefined
  try {
    return JSON.parse(text)
  } catch {
    throw new AppError(400, 'malformed_json', 'The body is not valid JSON')
  }
}

const tooLarge = (requestId: string) => problem(413, 'payload_too_large', 'Request body is over the limit', requestId)

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
  logger.error('unhandled error', { request_id: id, route, code, error: String(error), stack: (error as Error)?.stack })
  return problemVia(set, 500, 'internal', 'Something went wrong on our side; quote the request id if you report it', id)
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
      const { id } = arrive(request)
      set.headers['x-request-id'] = id
      if (Number(request.headers.get('content-length') ?? 0) > MAX_BODY_BYTES) return tooLarge(id)
    })
    // Synchronous until there is a body to read: a bodiless POST (a flash-sale entry) waits for nothing.
    .onParse({ as: 'global' }, ({ request, contentType, route }) => {
      if (raw.has(route)) return readLimited(request)
      const length = request.headers.get('content-length')
      if (length === '0' || (length === null && !request.headers.has('transfer-encoding'))) return
      const type = contentType?.split(';')[0]?.trim().toLowerCase()
      if (type === 'multipart/form-data' && multipart.has(route)) return
      if (multipart.has(route)) throw new AppError(415, 'unsupported_media_type', 'Send this as multipart/form-data')
      if (type !== 'application/json' && !type?.endsWith('+json')) {
        throw new AppError(415, 'unsupported_media_type', 'Send a JSON body with Content-Type: application/json')
      }
      return readJson(request)
    })
    // Named fields only: a hook that takes the whole context makes the framework build all of
    // it (cookies, every header) for every request of every route.
    .onError({ as: 'global' }, ({ code, error, request, route, set }) => renderError(logger, { code, error, request, route, set }))
}
