/** Stable error codes of the HTTP contract (`code` in problem+json answers). */
export type ErrorCode =
  | 'validation_failed'
  | 'unauthorized'
  | 'invalid_credentials'
  | 'forbidden'
  | 'not_found'
  | 'email_taken'
  | 'conflict'
  | 'insufficient_stock'
  | 'out_of_stock'
  | 'region_mismatch'
  | 'invalid_transition'
  | 'drop_not_open'
  | 'sold_out'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'malformed_json'
  | 'rate_limited'
  | 'method_not_allowed'
  | 'payment_declined'
  | 'service_unavailable'
  | 'internal'

export interface FieldError {
  field: string
  message: string
}

/**
 * A failure the client caused or must know about. Services throw it; the error
 * plugin turns it into RFC 9457 problem+json. `extra` members are merged into the
 * problem body (e.g. `opens_at` for `drop_not_open`).
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly errors?: unknown[],
    readonly extra?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(message)
    this.name = 'AppError'
  }
}

export const notFound = (what = 'Resource') => new AppError(404, 'not_found', `${what} not found`)
export const conflict = (message: string, extra?: Record<string, unknown>) =>
  new AppError(409, 'conflict', message, undefined, extra)
/** RFC 6750: a 401 for a bearer-protected resource names the scheme it wants. */
export const unauthorized = (message = 'Authentication required') =>
  new AppError(401, 'unauthorized', message, undefined, undefined, { 'www-authenticate': 'Bearer realm="shop"' })
export const forbidden = (message = 'This action needs a role you do not have') => new AppError(403, 'forbidden', message)
export const invalid = (errors: FieldError[]) =>
  new AppError(422, 'validation_failed', errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors)
