/** Stable error codes of the HTTP contract (`code` in problem+json answers). */
export type ErrorCode =
  | 'validation_failed'
  | 'unauthorized'
  | 'invalid_credentials'
  | 'invalid_grant'
  | 'invalid_request'
  | 'unsupported_grant_type'
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
  | 'order_too_large'
  | 'address_required'
  | 'weak_password'
  | 'account_disabled'
  | 'service_unavailable'
  | 'internal'

export interface FieldError {
  field: string
  message: string
}

/** What a problem body and its answer carry beyond status, code and message. */
export interface AppErrorOptions {
  /** Per-field or per-line details (`errors` in the problem body). */
  errors?: unknown[]
  /** Members merged into the problem body (e.g. `opens_at` for `drop_not_open`). */
  extra?: Record<string, unknown>
  /** Response headers (`retry-after`, `www-authenticate`). */
  headers?: Record<string, string>
}

/**
 * A failure the client caused or must know about. Services throw it; the error
 * plugin turns it into RFC 9457 problem+json.
 */
export class AppError extends Error {
  readonly errors?: unknown[]
  readonly extra?: Record<string, unknown>
  readonly headers?: Record<string, string>

  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message)
    this.name = 'AppError'
    this.errors = options.errors
    this.extra = options.extra
    this.headers = options.headers
  }
}

export const notFound = (what = 'Resource') => new AppError(404, 'not_found', `${what} not found`)
export const conflict = (message: string, extra?: Record<string, unknown>) => new AppError(409, 'conflict', message, { extra })
/** RFC 6750: a 401 for a bearer-protected resource names the scheme it wants. */
export const unauthorized = (message = 'Authentication required') => new AppError(401, 'unauthorized', message, { headers: { 'www-authenticate': 'Bearer realm="shop"' } })
export const forbidden = (message = 'This action needs a role you do not have') => new AppError(403, 'forbidden', message)
export const invalid = (errors: FieldError[]) => new AppError(422, 'validation_failed', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors })
