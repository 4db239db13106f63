import { AppError } from '../lib/errors'

const JSON_BODY_LIMIT = 64 * 1024
/** The largest body any route takes: a 5 MB photo plus its multipart framing. */
export const MAX_BODY_BYTES = 6 * 1024 * 1024
/**
 * Bun's own cap, far above ours: past it Bun answers a bare 413 before any hook runs, so
 * ours must trip first (declared lengths at once, streamed bodies as they arrive).
 */
export const SERVER_BODY_CAP_BYTES = 64 * 1024 * 1024

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

/**
 * The parse hook: the webhook's exact bytes, multipart where a route takes it, JSON
 * everywhere else (415 for any other type). Synchronous until there is a body to read: a
 * bodiless POST (a flash-sale entry) waits for nothing.
 */
export function bodyParser(multipartRoutes: string[], rawBodyRoutes: string[]) {
  const multipart = new Set(multipartRoutes)
  const raw = new Set(rawBodyRoutes)
  return ({ request, contentType, route }: { request: Request; contentType?: string; route: string }) => {
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
  }
}
