/** Where uploaded files live: local disk by default; several instances need a shared store (S3). */
export interface FileStore {
  put(key: string, bytes: Uint8Array, contentType: string): Promise<void>
  get(key: string): Promise<Uint8Array | null>
  delete(key: string): Promise<void>
  ping(): Promise<void>
}

/** Keys are made by the server (`<uuid>.webp`); anything path-like is a bug, never a file. */
export function checkFileKey(key: string): string {
  if (!/^[\w.-]+$/.test(key) || key.startsWith('.')) throw new Error(`Bad file key: ${key}`)
  return key
}
