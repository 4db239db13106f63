import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Clock } from '../../src/lib/clock'
import { startShop, type TestShop } from './harness'
import { freshSecrets } from './secrets'

/**
 * A server that can be restarted on its database file, keeping its secrets as production
 * does (tokens issued before the restart stay valid). Always `close()` it.
 */
export async function restartableShop({ clock, env = {} }: { clock: Clock; env?: Record<string, string> }) {
  const dir = mkdtempSync(join(tmpdir(), 'shop-restart-'))
  const options = { clock, databaseUrl: `file:${join(dir, 'shop.db')}`, env: { ...freshSecrets(), ...env } }
  let current: TestShop | undefined = await startShop(options)
  return {
    get shop() {
      return current!
    },
    /** Stops the server, runs `whileDown` (move the clock, change the database), starts a new one. */
    async restart(whileDown: () => void | Promise<void> = () => {}) {
      await current!.close()
      current = undefined
      await whileDown()
      current = await startShop(options)
      return current
    },
    async close() {
      await current?.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
