import { expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inArray } from 'drizzle-orm'
import { openDatabase } from '../src/db/client'
import { users } from '../src/modules/accounts/schema'
import { freshSecrets } from './support/secrets'

/** Reads the server's JSON log lines until one says where it listens. */
async function listeningUrl(stdout: ReadableStream<Uint8Array>, lines: string[]): Promise<string> {
  const decoder = new TextDecoder()
  let buffer = ''
  const reader = stdout.getReader()
  for (;;) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`server exited before listening:\n${lines.join('\n')}`)
    buffer += decoder.decode(value)
    const complete = buffer.split('\n')
    buffer = complete.pop()!
    for (const line of complete) {
      lines.push(line)
      const url = (JSON.parse(line) as { msg: string; url?: string }).url
      if (url) {
        // Keep draining the log so the server never blocks on a full pipe.
        void (async () => {
          for (;;) {
            const next = await reader.read()
            if (next.done) return
            lines.push(...decoder.decode(next.value).split('\n').filter(Boolean))
          }
        })()
        return url
      }
    }
  }
}

test('SIGTERM mid-load: every request the server accepted is answered and kept; none hangs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shop-shutdown-'))
  const databaseUrl = `file:${join(dir, 'shop.db')}`
  const server = Bun.spawn(['bun', 'src/main.ts'], {
    env: {
      PATH: process.env.PATH!,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: databaseUrl,
      UPLOAD_DIR: join(dir, 'uploads'),
      ...freshSecrets(),
      RATE_LIMIT: 'off',
    },
    stdout: 'pipe',
    stderr: 'inherit',
  })
  const log: string[] = []
  try {
    const url = await listeningUrl(server.stdout, log)
    let signalled = false
    const answered: { email: string; status: number; afterSignal: boolean }[] = []
    const failed: { email: string; error: string }[] = []
    let sent = 0
    // Registration hashes with production argon2id (~0.1 s each): plenty of requests in flight.
    // Each client sends until the server stops taking requests (bounded in count).
    const client = async () => {
      while (sent < 400) {
        const email = `load${++sent}@example.com`
        try {
          const res = await fetch(`${url}/v1/auth/register`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email, name: 'Load', password: 'load password' }),
            signal: AbortSignal.timeout(20_000),
          })
          answered.push({ email, status: res.status, afterSignal: signalled })
        } catch (error) {
          failed.push({ email, error: String((error as { name?: string; code?: string }).code ?? (error as Error).name) })
          return
        }
      }
    }
    const clients = Array.from({ length: 10 }, client)
    while (answered.filter((a) => a.status === 201).length < 10) await Bun.sleep(10)
    server.kill('SIGTERM')
    signalled = true
    await Promise.all(clients)
    expect(await server.exited).toBe(0)

    const created = answered.filter((a) => a.status === 201)
    expect(answered.every((a) => a.status === 201)).toBe(true)
    // Requests already in flight when the signal came were finished, not dropped.
    expect(created.some((a) => a.afterSignal)).toBe(true)
    // Nothing hung. A request that got no answer (refused after the signal, or reset while it
    // waited in the socket backlog) must not have been acted on either: that would be a lost answer.
    expect(failed.filter((f) => f.error === 'TimeoutError')).toEqual([])
    expect(failed.length).toBeGreaterThan(0)
    expect(log.some((line) => line.includes('"msg":"stopped"'))).toBe(true)

    const database = await openDatabase({ url: databaseUrl })
    try {
      const stored = async (emails: string[]) => (await database.db.select({ email: users.email }).from(users).where(inArray(users.email, emails))).map((r) => r.email)
      expect((await stored(created.map((a) => a.email))).sort()).toEqual(created.map((a) => a.email).sort())
      expect(await stored(failed.map((f) => f.email))).toEqual([])
    } finally {
      await database.close()
    }
  } finally {
    server.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
}, 60_000)
