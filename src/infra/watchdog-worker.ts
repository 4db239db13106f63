// The watchdog's thread (see watchdog.ts): ends the process when the main loop's heartbeat stops.
import { dlopen } from 'bun:ffi'
import { writeSync } from 'node:fs'
import type { WatchdogMessage } from './watchdog'

declare const self: Worker

const LIBC: Partial<Record<NodeJS.Platform, string>> = { linux: 'libc.so.6', darwin: 'libSystem.B.dylib' }

/**
 * `process.exit` in a worker ends only the worker, and a signal the process sends itself is
 * ignored when it runs as PID 1 of a container (the image's `bun` is), so the thread calls
 * libc's `_exit`, which ends every thread with `code`. SIGKILL is the fallback.
 */
function endProcess(code: number) {
  try {
    const libc = LIBC[process.platform]
    if (libc) dlopen(libc, { _exit: { args: ['i32'], returns: 'void' } }).symbols._exit(code)
  } finally {
    process.kill(process.pid, 'SIGKILL')
  }
}

self.onmessage = ({ data }: MessageEvent<WatchdogMessage>) => {
  const { heartbeat, stallMs, checkEveryMs, exitCode } = data
  let seen = Atomics.load(heartbeat, 0)
  let seenAt = performance.now()
  setInterval(() => {
    const now = performance.now()
    const current = Atomics.load(heartbeat, 0)
    if (current !== seen) {
      seen = current
      seenAt = now
      return
    }
    const stalledMs = Math.round(now - seenAt)
    if (stalledMs < stallMs) return
    // Written at once from this thread: the logger's buffer lives on the stalled one.
    const line = {
      time: new Date().toISOString(),
      level: 'error',
      msg: 'event loop stalled; ending the process',
      stalled_ms: stalledMs,
      setting: 'WATCHDOG_STALL_MS',
      limit_ms: stallMs,
      exit_code: exitCode,
    }
    writeSync(2, JSON.stringify(line) + '\n')
    endProcess(exitCode)
  }, checkEveryMs)
}
