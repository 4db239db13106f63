import { S3Client } from 'bun'
import { checkFileKey, type FileStore } from '.'

export interface S3Options {
  bucket: string
  /** For S3-compatible services (R2, MinIO, Tigris); unset means AWS. */
  endpoint?: string
  region?: string
  accessKeyId?: string
  secretAccessKey?: string
}

const isMissing = (error: unknown) => (error as { code?: string } | null)?.code === 'NoSuchKey'

/** Files in one bucket through Bun's built-in S3 client: what several instances can share. */
export function s3FileStore(options: S3Options): FileStore {
  const client = new S3Client(options)
  return {
    async put(key, bytes, contentType) {
      await client.write(checkFileKey(key), bytes, { type: contentType })
    },
    async get(key) {
      try {
        return await client.file(checkFileKey(key)).bytes()
      } catch (error) {
        if (isMissing(error)) return null
        throw error
      }
    },
    async delete(key) {
      await client.delete(checkFileKey(key))
    },
    async ping() {
      // Listing fails for a missing bucket or wrong credentials (a HEAD of some key would not
      // tell). The prefix matches no file key (they hold no '/'), so the answer stays empty.
      await client.list({ maxKeys: 1, prefix: 'ready-probe/' })
    },
  }
}
