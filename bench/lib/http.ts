/**
 * k6's `k6/http` over fetch: same call shapes (`http.get(url, params)`,
 * `http.post(url, body, params)`), same built-in metrics (`http_reqs`,
 * `http_req_duration`, `http_req_failed`) and tags (`name`, `method`, `status`,
 * `expected_response`). Calls return promises: `await` them (harmless under k6, where
 * the value is already there).
 */
import { activeStore, type Tags } from './metrics'
import { iterationTags } from './k6'

export type ResponseCallback = (status: number) => boolean

export interface Params {
  headers?: Record<string, string>
  tags?: Tags
  /** Which statuses count as expected (not failed) for this request. */
  responseCallback?: ResponseCallback
  /** Milliseconds (k6 also takes '60s'). */
  timeout?: number
}

export interface Response {
  url: string
  status: number
  /** The body as text; null when `discardResponseBodies` is on or the request failed. */
  body: string | null
  headers: Record<string, string>
  timings: { duration: number }
  /** Set when no response came (connection refused, timeout): then `status` is 0. */
  error: string
  json(): any
}

export type Body = string | null | undefined

type Range = number | { min: number; max: number }

/** A response callback accepting the listed statuses and ranges. */
export function expectedStatuses(...accepted: Range[]): ResponseCallback {
  return (status) => accepted.some((r) => (typeof r === 'number' ? r === status : status >= r.min && status <= r.max))
}

let defaultCallback: ResponseCallback = expectedStatuses({ min: 200, max: 399 })
let discardBodies = false
/** On only while scenarios run: setup and teardown requests are not part of the measured load. */
let recording = false

export function setResponseCallback(callback: ResponseCallback) {
  defaultCallback = callback
}

/** Called by the runner: the script's options before each run, and `record` around setup and teardown. */
export function configureHttp(options: { discardResponseBodies?: boolean; record?: boolean }) {
  if (options.discardResponseBodies !== undefined) discardBodies = options.discardResponseBodies
  if (options.record !== undefined) recording = options.record
}

/** k6's defaults, not recording. */
export function resetHttp() {
  discardBodies = false
  recording = false
  defaultCallback = expectedStatuses({ min: 200, max: 399 })
}

const DEFAULT_TIMEOUT_MS = 60_000

export async function request(method: string, url: string, body?: Body, params: Params = {}): Promise<Response> {
  const started = performance.now()
  let status = 0
  let text: string | null = null
  let error = ''
  let headers: Record<string, string> = {}
  // Cleared once answered: AbortSignal.timeout's timer would outlive every request by a minute,
  // and at 10,000 arrivals a second the client's timer heap would grow by as many.
  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(new DOMException('The operation timed out.', 'TimeoutError')), params.timeout ?? DEFAULT_TIMEOUT_MS)
  try {
    const res = await fetch(url, {
      method,
      headers: params.headers,
      body: body ?? undefined,
      signal: abort.signal,
    })
    status = res.status
    headers = Object.fromEntries(res.headers)
    if (discardBodies) await res.arrayBuffer()
    else text = await res.text()
  } catch (e) {
    error = e instanceof Error ? e.message : String(e)
  } finally {
    clearTimeout(timer)
  }
  const duration = performance.now() - started
  if (recording) {
    const expected = status !== 0 && (params.responseCallback ?? defaultCallback)(status)
    const tags: Tags = { ...iterationTags(), method, name: params.tags?.name ?? url, status: String(status), expected_response: String(expected), ...params.tags }
    const store = activeStore()
    store.add('http_reqs', 'counter', 1, tags)
    store.add('http_req_duration', 'trend', duration, tags, true)
    store.add('http_req_failed', 'rate', expected ? 0 : 1, tags)
  }
  return {
    url,
    status,
    body: text,
    headers,
    timings: { duration },
    error,
    json() {
      if (text === null) throw new Error(`no body to parse (status ${status}${error ? `, ${error}` : ''})`)
      return JSON.parse(text)
    },
  }
}

const http = {
  request,
  get: (url: string, params?: Params) => request('GET', url, null, params),
  post: (url: string, body?: Body, params?: Params) => request('POST', url, body, params),
  put: (url: string, body?: Body, params?: Params) => request('PUT', url, body, params),
  patch: (url: string, body?: Body, params?: Params) => request('PATCH', url, body, params),
  del: (url: string, body?: Body, params?: Params) => request('DELETE', url, body, params),
  expectedStatuses,
  setResponseCallback,
}
export default http
