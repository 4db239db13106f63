export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'
const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
  /** Writes out what is buffered (before the process exits). */
  flush(): void
}

const SECRET_KEY = /pass|token|secret|authorization|cookie|card|cvc|signature/i
const JWT = /\beyJ[\w-]+\.[\w-]+\.[\w-]+/g
const CARD_NUMBER = /\b(?:\d[ -]?){12,18}\d\b/g

/**
 * A last line of defence: fields named like secrets, and values shaped like a JWT or a
 * card number (say, inside an error message that quotes a query), never reach a log.
 */
function redact(value: unknown, key = ''): unknown {
  if (value === null || value === undefined) return value
  if (SECRET_KEY.test(key)) return '[redacted]'
  if (typeof value === 'string') return value.replace(JWT, '[redacted jwt]').replace(CARD_NUMBER, '[redacted number]')
  if (Array.isArray(value)) return value.map((v) => redact(v))
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]))
  return value
}

/**
 * Lines logged in one turn of the event loop leave in one write: under load that is one
 * write per batch of requests instead of one per request line.
 */
function bufferedStdout() {
  let pending: string[] = []
  const flush = () => {
    if (!pending.length) return
    const out = pending.join('')
    pending = []
    process.stdout.write(out)
  }
  const write = (line: string) => {
    if (pending.push(line + '\n') === 1) setImmediate(flush)
  }
  return { write, flush }
}

/** One JSON object per line (stdout by default): what log shippers expect. */
export function createLogger(level: LogLevel, write?: (line: string) => void): Logger {
  const out = write ? { write, flush() {} } : bufferedStdout()
  const at = (lvl: Exclude<LogLevel, 'silent'>) => (msg: string, fields?: Record<string, unknown>) => {
    if (rank[lvl] < rank[level]) return
    out.write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...(fields && (redact(fields) as Record<string, unknown>)) }))
  }
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), flush: out.flush }
}
