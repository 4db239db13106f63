import sharp from 'sharp'
import { AppError } from './errors'

const MAX_PHOTO_BYTES = 5 * 1024 * 1024
/** 25 MP: any real phone photo fits; a decompression bomb (16000×16000) does not. */
const MAX_INPUT_PIXELS = 25_000_000
/**
 * No real photo is wider or taller. A 1 × 25,000,000 PNG (48 KB) is within the pixel count
 * but cost ~6.5 s of CPU to shrink: the resize works along the long edge.
 */
const MAX_EDGE = 8192
/** Longest side of a stored profile photo (an avatar); product images ask for more. */
const PHOTO_EDGE = 512

// Only these decoders may run on uploads: SVG (librsvg), TIFF, HEIF, PDF… stay off.
sharp.block({ operation: ['VipsForeignLoad'] })
sharp.unblock({ operation: ['VipsForeignLoadJpegBuffer', 'VipsForeignLoadPngBuffer', 'VipsForeignLoadWebpBuffer'] })

const notAnImage = () => new AppError(415, 'unsupported_media_type', 'The photo must be a JPEG, PNG or WebP image')

/**
 * Re-encodes an upload as a WebP of at most `edge` pixels a side, with no metadata. The format
 * is judged by the bytes (never the file name or declared type), and the pixel limit is
 * checked from the header before anything is decoded.
 */
export async function processPhoto(bytes: Uint8Array, edge = PHOTO_EDGE): Promise<Uint8Array> {
  if (bytes.byteLength > MAX_PHOTO_BYTES) throw new AppError(413, 'payload_too_large', 'The photo is over 5 MB')
  const options = { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' as const }
  let format: string | undefined
  try {
    const meta = await sharp(bytes, options).metadata()
    format = meta.format
    const width = meta.width ?? 0
    const height = meta.height ?? 0
    if (width > MAX_EDGE || height > MAX_EDGE) throw new AppError(415, 'unsupported_media_type', `The photo is wider or taller than ${MAX_EDGE} px`)
    if (width * height > MAX_INPUT_PIXELS) throw new AppError(415, 'unsupported_media_type', 'The photo has too many pixels (25 MP at most)')
  } catch (error) {
    if (error instanceof AppError) throw error
    throw notAnImage()
  }
  if (format !== 'jpeg' && format !== 'png' && format !== 'webp') throw notAnImage()
  try {
    const out = await sharp(bytes, options).rotate().resize(edge, edge, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 80 }).toBuffer()
    return new Uint8Array(out)
  } catch {
    throw notAnImage()
  }
}

/** A stored image as served: fixed type and nosniff (the bytes were re-encoded by us, but browsers must never guess), cached for good (a new upload gets a new key). */
export const storedImageResponse = (bytes: Uint8Array) =>
  new Response(bytes, {
    headers: { 'content-type': 'image/webp', 'x-content-type-options': 'nosniff', 'cache-control': 'public, max-age=31536000, immutable' },
  })
