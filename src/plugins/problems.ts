import type { ErrorCode } from '../lib/errors'
import { preserialized } from '../lib/models'
import { stateOf } from './request-state'

/** The id of this request, echoed in `X-Request-Id`, problem bodies and logs. */
export const requestIdOf = (request: Request) => stateOf(request)?.id ?? 'unknown'

const PROBLEM_TYPE = 'application/problem+json'

export type ResponseSet = { status?: number | string; headers: Record<string, string | number> }

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
const problemJson = (status: number, code: ErrorCode, detail: string, requestId: string, more: Record<string, unknown>) => JSON.stringify(problemBody(status, code, detail, requestId, more))

/** A problem+json answer on its own, for answers given before routing (413 on arrival, TRACE, 405). */
export function problem(status: number, code: ErrorCode, detail: string, requestId: string, more: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  return new Response(problemJson(status, code, detail, requestId, more), {
    status,
    headers: { 'content-type': PROBLEM_TYPE, 'x-request-id': requestId, ...headers },
  })
}

/** The problem's status and headers, on the request's `set`. */
function prepare(set: ResponseSet, status: number, headers?: Record<string, string>) {
  set.status = status
  set.headers['content-type'] = PROBLEM_TYPE
  if (headers) Object.assign(set.headers, headers)
}

/**
 * The answer for a hook to return, through the request's `set`: the framework then
 * builds one Response carrying every header the request gathered (security headers, rate
 * limits), instead of copying a finished Response to merge them in.
 */
export function problemVia(set: ResponseSet, status: number, code: ErrorCode, detail: string, requestId: string, more: Record<string, unknown> = {}, headers?: Record<string, string>) {
  prepare(set, status, headers)
  return problemJson(status, code, detail, requestId, more)
}

/**
 * The answer for a route to return when a refusal is an expected outcome rather than an
 * error (a stampede's `sold_out`): one finished Response with every header the request
 * gathered. The route's Problem schema still documents it; the body is our own, so it is
 * not checked and encoded again on its way out (a TypeBox Encode a request).
 */
export const problemAnswer = (...args: Parameters<typeof problemVia>) => preserialized(args[0], problemVia(...args), PROBLEM_TYPE)

/** A problem all of whose fields but the request id are fixed (a stampede's `sold_out`): serialised once, each answer splices its id in. */
export function fixedProblem(status: number, code: ErrorCode, detail: string, headers?: Record<string, string>) {
  const [head, tail] = problemJson(status, code, detail, '', {}).split('"request_id":""') as [string, string]
  return (set: ResponseSet, requestId: string) => {
    prepare(set, status, headers)
    // The id is ours (a UUID, or `unknown`): nothing in it to escape.
    return preserialized(set, `${head}"request_id":"${requestId}"${tail}`, PROBLEM_TYPE)
  }
}

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}
const titleOf = (status: number) => titles[status] ?? 'Error'
