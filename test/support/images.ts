import sharp from 'sharp'

export const pngBytes = (width = 64, height = 48) =>
  sharp({ create: { width, height, channels: 3, background: { r: 200, g: 30, b: 30 } } })
    .png()
    .toBuffer()

export const jpegWithExif = () =>
  sharp({ create: { width: 800, height: 600, channels: 3, background: { r: 10, g: 200, b: 30 } } })
    .jpeg()
    .withMetadata({ exif: { IFD0: { Copyright: 'secret-owner', Artist: 'Someone' } } })
    .toBuffer()

function chunk(type: string, data: Uint8Array) {
  const out = new Uint8Array(12 + data.length)
  const view = new DataView(out.buffer)
  view.setUint32(0, data.length)
  out.set(new TextEncoder().encode(type), 4)
  out.set(data, 8)
  view.setUint32(8 + data.length, Bun.hash.crc32(out.subarray(4, 8 + data.length)))
  return out
}

/**
 * A few hundred bytes that claim to be a 16000×16000 PNG: a decompression bomb's header.
 * `decodable`: with every scanline really there (black), so a decoder goes all the way.
 */
export function pixelBombPng(width = 16000, height = 16000, { decodable = false } = {}) {
  const ihdr = new Uint8Array(13)
  const view = new DataView(ihdr.buffer)
  view.setUint32(0, width)
  view.setUint32(4, height)
  ihdr.set([8, 2, 0, 0, 0], 8)
  const idat = Bun.deflateSync(new Uint8Array(decodable ? height * (1 + width * 3) : height + 1), { level: 9 })
  const signature = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array())])
}

export const photoForm = (bytes: Uint8Array | string, type = 'image/png', name = 'photo.png') => {
  const form = new FormData()
  form.set('photo', new Blob([bytes], { type }), name)
  return form
}
