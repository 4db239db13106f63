/** Exit status of a process the watchdog ended (EX_SOFTWARE): non-zero, so a restart policy of `on-failure` restarts it. */
export const STALLED_EXIT_CODE = 70

export interface WatchdogMessage {
  heartbeat: Int32Array
  stallMs: number
  checkEveryMs: number
  exitCode: number
}

/**
 * Ends the whole process when this thread's event loop has not turned for `stallMs`. A hung
 * loop answers nothing, `/health` included, and no platform restarts a machine for a failing
 * check (Fly routes around it; the Dockerfile's HEALTHCHECK is ignored there): this is what
 * turns a hang into an exit the restart policy acts on. The loop bumps a counter in shared
 * memory; a worker thread, whose own loop keeps running while this one is stuck, reads it.
 * Neither the timer nor the worker keeps the process alive.
 */
export function startWatchdog(stallMs: number): { stop(): void } {
  const heartbeat = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT))
  const checkEveryMs = Math.max(10, Math.min(1000, Math.floor(stallMs / 4)))
  const beat = setInterval(() => Atomics.add(heartbeat, 0, 1), checkEveryMs)
  beat.unref()
  const worker = new Worker(new URL('./watchdog-worker.ts', import.meta.url))
  worker.unref()
  worker.postMessage({ heartbeat, stallMs, checkEveryMs, exitCode: STALLED_EXIT_CODE } satisfies WatchdogMessage)
  return {
    stop() {
      clearInterval(beat)
      worker.terminate()
    },
  }
}
