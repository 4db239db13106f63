import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import S3rver from 's3rver'
import type { FileStore } from '../src/infra/storage'
import { localFileStore } from '../src/infra/storage/local'
import { s3FileStore, type S3Options } from '../src/infra/storage/s3'
import { loadConfig } from '../src/config'
import { createDeps } from '../src/deps'
import { startShop } from './support/harness'
import { photoForm, pngBytes } from './support/images'
import { freshSecrets } from './support/secrets'

const dir = mkdtempSync(join(tmpdir(), 'shop-storage-'))
const BUCKET = 'photos'
// A local S3-compatible server (s3rver, from npm) on its own port; its default credentials.
const s3rver = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: join(dir, 's3'), configureBuckets: [{ name: BUCKET, configs: [] }] })
let s3: S3Options
beforeAll(async () => {
  const { port } = await s3rver.run()
  s3 = { bucket: BUCKET, endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }
})
afterAll(async () => {
  await s3rver.close()
  rmSync(dir, { recursive: true, force: true })
})

const adapters: [string, () => FileStore][] = [
  ['local disk', () => localFileStore(join(dir, 'uploads'))],
  ['S3', () => s3FileStore(s3)],
]

describe.each(adapters)('%s file store', (_name, make) => {
  const key = () => `${crypto.randomUUID()}.webp`

  test('what is put comes back byte for byte; a second put replaces it', async () => {
    const files = make()
    const k = key()
    const bytes = new Uint8Array(randomBytes(70_000))
    await files.put(k, bytes, 'image/webp')
    expect(await files.get(k)).toEqual(bytes)
    await files.put(k, new Uint8Array([1, 2, 3]), 'image/webp')
    expect(await files.get(k)).toEqual(new Uint8Array([1, 2, 3]))
  })

  test('a missing key reads as null; delete removes, and deleting twice is fine', async () => {
    const files = make()
    const k = key()
    expect(await files.get(k)).toBeNull()
    await files.put(k, new Uint8Array([9]), 'image/webp')
    await files.delete(k)
    expect(await files.get(k)).toBeNull()
    await files.delete(k)
  })

  test('path-like keys are refused', async () => {
    const files = make()
    for (const bad of ['../escape.webp', 'a/b.webp', '..', '.hidden']) {
      await expect(files.put(bad, new Uint8Array([1]), 'image/webp')).rejects.toThrow('Bad file key')
    }
  })

  test('ping answers while the store is reachable', async () => {
    await make().ping()
  })
})

test('S3: ping fails for a bucket that does not exist; objects keep their content type', async () => {
  await expect(s3FileStore({ ...s3, bucket: 'no-such-bucket' }).ping()).rejects.toThrow()
  const k = `${crypto.randomUUID()}.webp`
  await s3FileStore(s3).put(k, new Uint8Array([1, 2]), 'image/webp')
  const stat = await new Bun.S3Client(s3).file(k).stat()
  expect(stat.type).toBe('image/webp')
})

test('S3_BUCKET in the configuration puts photos in the bucket', async () => {
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: `file:${join(dir, 'deps.db')}`,
    ...freshSecrets(),
    S3_BUCKET: s3.bucket,
    S3_ENDPOINT: s3.endpoint!,
    S3_REGION: s3.region!,
    S3_ACCESS_KEY_ID: s3.accessKeyId!,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey!,
  })
  const deps = await createDeps(config)
  const shop = await startShop({ deps: { files: deps.files } })
  try {
    const u = await shop.register()
    const put = await shop.request('PUT', '/v1/me/photo', { token: u.token, raw: photoForm(await pngBytes()) })
    expect(put.status).toBe(200)
    const key = put.body.photo_url.split('/').at(-1)
    expect(await new Bun.S3Client(s3).exists(key)).toBe(true)
    const img = await fetch(shop.url + put.body.photo_url)
    expect(img.status).toBe(200)
    expect(img.headers.get('content-type')).toBe('image/webp')
    expect((await shop.request('GET', '/ready')).body.checks.files).toBe('ok')
  } finally {
    await shop.close()
    await deps.close()
  }
})
