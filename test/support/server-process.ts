import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eventually } from './eventually'
import { freshSecrets } from './secrets'

export type LogLine = Record<string, unknown> & { msg?: string }

/** A scratch directory for one server's database and uploads. */
export function scratchDir() {
  const dir = mkdtempSync(join(tmpdir(), 'shop-process-'))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** The environment an operator gives a production server, on `dir`, listening on a free port of 127.0.0.1. */
export const productionEnv = (dir: string): Record<string, string> => ({
  NODE_ENV: 'production',
  HOST: '127.0.0.1',
  PORT: '0',
  DATABASE_URL: `file:${join(dir, 'shop.db')}`,
  UPLOAD_DIR: join(dir, 'uploads'),
  ...freshSecrets(),
})

/**
 * The server as an operator runs it (`bun src/main.ts`, or `command`), in a child process:
 * every line it writes, stdout and stderr alike, is kept, and JSON lines are parsed.
 */
export function serverProcess(env: Record<string, string>, command = ['bun', 'src/main.ts']) {
  const proc = Bun.spawn(command, { env: { PATH: process.env.PATH!, ...env }, stdout: 'pipe', stderr: 'pipe' })
  const lines: string[] = []
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder()
    let rest = ''
    for await (const chunk of stream) {
      const complete = (rest + decoder.decode(chunk, { stream: true })).split('\n')
      rest = complete.pop()!
      lines.push(...complete)
    }
    if (rest) lines.push(rest)
  }
  const drained = Promise.all([drain(proc.stdout), drain(proc.stderr)])
  const logLines = (): LogLine[] =>
    lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as LogLine]
      } catch {
        return []
      }
    })
  return {
    proc,
    lines,
    logLines,
    /** The exit code once the process ended and its output is read (null when a signal ended it). */
    async exited() {
      const code = await proc.exited
      await drained
      return code
    },
    /** Waits for the log line saying where it listens (`msg` = 'listening' by default). */
    async url(msg = 'listening', deadlineMs = 30_000): Promise<string> {
      return eventually(() => {
        const line = logLines().find((l) => l.msg === msg)
        if (!line) throw new Error(`no '${msg}' line yet:\n${lines.join('\n')}`)
        return String(line.url)
      }, deadlineMs)
    },
    kill: (signal: NodeJS.Signals = 'SIGKILL') => proc.kill(signal),
  }
}
