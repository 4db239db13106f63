import { AppError } from '../lib/errors'

const JSON_BODY_LIMIT = 64 * 1024
/** The largest body any route takes: a 5 MB photo plus its multipart framing. */
export const MAX_BODY_BYTES = 6 * 1024 * 1024

/**
 * What `Bun.serve` is given (src/main.ts, the test harness). `maxRequestBodySize`: Bun's own
 * cap, far above ours: past it Bun answers a bare 413 before any hook runs, so ours must trip
 * first (declared lengths at once, streamed bodies as they arrive). `idleTimeout`: a
 * connection that sends nothing for this long is closed, so a body that stops making progress
 * does not hold it (Elysia's default is 30 s; Bun's timer ticks every 4 s, so 8 s closes it
 * within 10). Event streams raise their own connection's timeout (`server.timeout`).
 */
export const SERVER_LIMITS = { maxRequestBodySize: 64 * 1024 * 1024, idleTimeout: 8 }

const bodyTooLarge = (limit: number) => new AppError(413, 'payload_too_large', `This body is limited to ${limit / 1024 >= 1024 ? `${limit / 1024 / 1024} MiB` : `${limit / 1024} KiB`}`)

/**
 * The body's bytes, refused past `limit`: a declared length is checked before reading (then
 * the body is read natively in one go), a chunked body as it arrives, so no more than `limit`
 * is ever held.
 */
async function readLimited(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length')
  if (declared !== null) {
    if (Number(declared) > limit) throw bodyTooLarge(limit)
    return new Uint8Array(await request.arrayBuffer())
  }
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of request.body ?? []) {
    size += chunk.byteLength
    if (size > limit) throw bodyTooLarge(limit)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

const decoder = new TextDecoder()

/** Deeper than any body of the contract (an address in an order is 3 levels). */
const MAX_JSON_DEPTH = 32
const OPEN_BRACKET = new Set([0x5b, 0x7b])
const CLOSE_BRACKET = new Set([0x5d, 0x7d])

/**
 * True when `text` nests arrays or objects deeper than MAX_JSON_DEPTH. JSON.parse takes a
 * 30,000-deep array in 2 ms, but validating and reporting it held a core for seconds and
 * ended in a stack overflow (500): such a body is refused before it is parsed.
 */
function tooDeep(text: string): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (OPEN_BRACKET.has(c)) {
      if (++depth > MAX_JSON_DEPTH) return true
    } else if (CLOSE_BRACKET.has(c)) depth--
  }
  return false
}

async function readForm(request: Request): Promise<Record<string, string>> {
  return Object.fromEntries(new URLSearchParams(decoder.decode(await readLimited(request, JSON_BODY_LIMIT))))
}

async function readJson(request: Request): Promise<unknown> {
  const text = decoder.decode(await readLimited(request, JSON_BODY_LIMIT))
  if (text.length === 0) return undefined
  if (tooDeep(text)) throw new AppError(400, 'malformed_json', `The body nests arrays or objects more than ${MAX_JSON_DEPTH} levels deep`)
  try {
    return JSON.parse(text)
  } catch {
    throw new AppError(400, 'malformed_json', 'The body is not valid JSON')
  }
}

/** Which routes take which bodies; every other route takes JSON only. */
export interface BodyRoutes {
  /** Route templates that take multipart bodies (file uploads). */
  multipartRoutes: string[]
  /** Route templates that take `application/x-www-form-urlencoded` only (OAuth's token endpoint). */
  formRoutes?: string[]
  /**
   * Route templates whose handler gets the body's exact bytes (a `Uint8Array`, empty when there
   * is none), whatever the content type: a signed webhook checks its signature before parsing.
   */
  rawBodyRoutes?: string[]
}

const FORM = 'application/x-www-form-urlencoded'

/** The media types a route's body may have: what the OpenAPI document says it takes (raw routes describe their own). */
export function bodyTypes({ multipartRoutes, formRoutes = [], rawBodyRoutes = [] }: BodyRoutes) {
  const [multipart, form, raw] = [new Set(multipartRoutes), new Set(formRoutes), new Set(rawBodyRoutes)]
  return (route: string): string[] => (raw.has(route) ? [] : multipart.has(route) ? ['multipart/form-data'] : form.has(route) ? [FORM] : ['application/json'])
}

/**
 * A multipart body read within `MAX_BODY_BYTES` first (the framework's own parser would read
 * a chunked one up to the server's cap), then parsed as the framework does: a field sent once
 * is a value, sent several times an array.
 */
async function readMultipart(request: Request, contentType: string): Promise<Record<string, unknown>> {
  const bytes = await readLimited(request, MAX_BODY_BYTES)
  const form = await new Response(bytes, { headers: { 'content-type': contentType } }).formData()
  const body: Record<string, unknown> = {}
  for (const key of new Set(form.keys())) {
    const values = form.getAll(key)
    body[key] = values.length === 1 ? values[0] : values
  }
  return body
}

/**
 * The parse hook: the webhook's exact bytes, multipart or a form where a route takes it, JSON
 * everywhere else (415 for any other type). Synchronous until there is a body to read: a
 * bodiless POST (a flash-sale entry) waits for nothing.
 */
export function bodyParser({ multipartRoutes, formRoutes = [], rawBodyRoutes = [] }: BodyRoutes) {
  const multipart = new Set(multipartRoutes)
  const form = new Set(formRoutes)
  const raw = new Set(rawBodyRoutes)
  return ({ request, contentType, route }: { request: Request; contentType?: string; route: string }) => {
    if (raw.has(route)) return readLimited(request, JSON_BODY_LIMIT)
    const length = request.headers.get('content-length')
    if (length === '0' || (length === null && !request.headers.has('transfer-encoding'))) return
    const type = contentType?.split(';')[0]?.trim().toLowerCase()
    if (type === 'multipart/form-data' && multipart.has(route)) return readMultipart(request, request.headers.get('content-type')!)
    if (multipart.has(route)) throw new AppError(415, 'unsupported_media_type', 'Send this as multipart/form-data')
    if (form.has(route)) {
      if (type !== FORM) throw new AppError(415, 'unsupported_media_type', `Send this as ${FORM}`)
      return readForm(request)
    }
    if (type !== 'application/json' && !type?.endsWith('+json')) {
      throw new AppError(415, 'unsupported_media_type', 'Send a JSON body with Content-Type: application/json')
    }
    return readJson(request)
  }
}
