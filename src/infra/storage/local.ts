import { mkdir, readFile, rm, writeFile, access } from 'node:fs/promises'
import { join } from 'node:path'
import { checkFileKey, type FileStore } from '.'

/** Files under one directory; keys are server-made, so they never hold path separators. */
export function localFileStore(dir: string): FileStore {
  const pathOf = (key: string) => join(dir, checkFileKey(key))
  return {
    async put(key, bytes) {
      await mkdir(dir, { recursive: true })
      await writeFile(pathOf(key), bytes)
    },
    async get(key) {
      try {
        return new Uint8Array(await readFile(pathOf(key)))
      } catch {
        return null
      }
    },
    async delete(key) {
      await rm(pathOf(key), { force: true })
    },
    async ping() {
      await mkdir(dir, { recursive: true })
      await access(dir)
    },
  }
}
