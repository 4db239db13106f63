import { t, type TSchema } from 'elysia'
import { Kind, Type, TypeRegistry } from '@sinclair/typebox'
import { responseWith } from './response-headers'

/** A request object that rejects unknown fields (no mass assignment): the contract wants 422. */
export const strictObject = <P extends Parameters<typeof t.Object>[0]>(properties: P, options: Parameters<typeof t.Object>[1] = {}) => t.Object(properties, { ...options, additionalProperties: false })

/**
 * A list's query string: a parameter the list does not know answers 422, so a misspelt filter
 * (`?stauts=paid`) is an error rather than a silently unfiltered list.
 */
export const query = <P extends Parameters<typeof t.Object>[0]>(properties: P) => t.Object(properties, { additionalProperties: false })

/**
 * An integer in a JSON body or answer. Elysia's `t.Integer` also takes numeric strings
 * ("100"), which the contract does not allow for money and quantities; TypeBox's does not.
 * The one numeric query parameter, `limit`, is made a number by the page-limit hook.
 */
export const Int = Type.Integer

/**
 * The media type an answer of this schema is sent as, for the OpenAPI document (the
 * framework's generator writes `application/json` for every object); see src/plugins/openapi.ts.
 */
export const MEDIA_TYPE = 'x-media-type'
export const PROBLEM_MEDIA_TYPE = 'application/problem+json'

export const FieldError = t.Object({ field: t.String({ description: 'The field, dotted (`address.postal_code`), or `body`' }), message: t.String() })

const problemProperties = {
  type: t.String({ examples: ['urn:shop:problem:validation_failed'] }),
  title: t.String({ examples: ['Unprocessable Content'] }),
  status: Int({ examples: [422] }),
  detail: t.String(),
  code: t.String({ description: 'Stable and machine-readable: switch on it, not on `detail`' }),
  request_id: t.String({ description: 'Echoed in `X-Request-Id` and the logs: quote it when reporting a problem' }),
  errors: t.Optional(t.Array(FieldError, { description: 'Per-field details (422 `validation_failed`)' })),
}

export const Problem = t.Object(problemProperties, { additionalProperties: true, description: 'RFC 9457 problem details', [MEDIA_TYPE]: PROBLEM_MEDIA_TYPE })

/** The problem schema, described with the codes a route answers under one status (Swagger shows it for that status). */
export const ProblemOf = (description: string, more: Parameters<typeof t.Object>[0] = {}) =>
  t.Object({ ...problemProperties, ...more }, { additionalProperties: true, description, [MEDIA_TYPE]: PROBLEM_MEDIA_TYPE })

/** A line a refusal names as short of stock (`errors` of `insufficient_stock` and `out_of_stock`). */
export const ShortLine = t.Object({ product_id: t.String(), requested: Int(), available: Int() })

/** Any route that writes may answer it: the database cannot write right now (disk full, locked past its timeout); nothing was written. */
export const Unavailable = ProblemOf('`service_unavailable`: the database cannot write right now (disk full, locked) or a dependency is down; nothing was written, retry after `Retry-After` seconds')

const isRawJson = (JSON as unknown as { isRawJSON(value: unknown): boolean }).isRawJSON
TypeRegistry.Set('ExactInteger', (_schema, value) => Number.isSafeInteger(value) || isRawJson(value))
/** An answer's amount that may pass 2^53 (a cart's totals): a number, or the raw JSON integer `amountJson` gives beyond. */
export const ExactInt = (options: { description?: string } = {}) => Type.Unsafe<number>({ [Kind]: 'ExactInteger', type: 'integer', ...options })

export const Id = t.String({ minLength: 1, maxLength: 64 })
export const Timestamp = t.String({ format: 'date-time' })

export const MAX_PAGE_SIZE = 100

export const PageQuery = {
  // Made a number (and capped) before validation by the page-limit plugin, so the schema is a
  // plain integer, not a transforming one; `title` names the field in errors.
  limit: t.Optional(Int({ title: 'limit', minimum: 1, maximum: MAX_PAGE_SIZE, default: 20, description: 'Page size: 20 by default, at most 100 (larger values are capped)' })),
  cursor: t.Optional(t.String({ maxLength: 200 })),
}

export const Page = <T extends TSchema>(item: T) => t.Object({ data: t.Array(item), next_cursor: t.Union([t.String(), t.Null()]) })

/** Opaque cursors: clients must not build or parse them. */
export const encodeCursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
export function decodeCursor<T>(cursor: string | undefined): T | undefined {
  if (!cursor) return undefined
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as T
  } catch {
    return undefined
  }
}

/** The OpenAPI body of a route that reads its body itself (a signed webhook's bytes): JSON of this model. */
export const readBody = (schema: TSchema) => ({ required: true, content: { 'application/json': { schema: schema as object } } })

/** 204: no body. */
export const NoContent = t.Void({ description: 'No content' })

/** A Server-Sent Events stream, described by what its events carry. */
export const EventStream = (description: string) => t.String({ description, [MEDIA_TYPE]: 'text/event-stream' })

/** Image bytes of `mediaType`. */
export const ImageBytes = (mediaType: string, description: string) => t.String({ format: 'binary', description, [MEDIA_TYPE]: mediaType })

/**
 * An answer already serialised (from a cache, or by our own code), sent as it is: Elysia
 * neither re-serialises nor re-validates it, so only text built from a declared model's
 * mapper belongs here. The Response is built once with the status and every header the
 * request gathered; `set` is then left as if nothing were set (no headers, status 200), or
 * the framework would copy the finished Response to merge them in again.
 */
export function preserialized(set: { headers: Record<string, string | number>; status?: number | string }, json: string | Uint8Array<ArrayBuffer>, contentType = 'application/json') {
  const response = responseWith(json, Number(set.status ?? 200), contentType, set.headers)
  set.headers = {}
  set.status = 200
  return response
}
