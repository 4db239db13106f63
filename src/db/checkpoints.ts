/** How often the worker copies committed pages from the WAL into the database file. */
const CHECKPOINT_EVERY_MS = 200
/** How long `stop` waits for the worker to close its connection before ending it. */
const STOP_TIMEOUT_MS = 2000

export interface Checkpointer {
  stop(): Promise<void>
}

/**
 * WAL checkpoints off the request thread. SQLite checkpoints inside the commit that takes the
 * WAL past 1000 pages, and here that copy and its fsyncs held the only JS thread for ~43 ms
 * (`bench/README.md`). The writer turns that off (`wal_autocheckpoint = 0`, see client.ts)
 * and a worker thread with a connection of its own runs PASSIVE checkpoints, which never wait
 * for a reader or a writer; the WAL is reused from its start once a checkpoint has caught up.
 * A worker that fails is reported through `onError`; the database stays usable, its WAL grows.
 */
export function startCheckpointer(path: string, onError: (error: string) => void): Checkpointer {
  const worker = new Worker(new URL('./checkpoint-worker.ts', import.meta.url))
  // It never keeps the process alive by itself.
  worker.unref()
  worker.addEventListener('message', ({ data }) => {
    if (data?.error) onError(data.error)
  })
  worker.addEventListener('error', (event) => onError(`checkpoint worker failed: ${event.message}`))
  worker.postMessage({ path, everyMs: CHECKPOINT_EVERY_MS })
  let stopped: Promise<void> | undefined
  return {
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timeout)
          worker.terminate()
          resolve()
        }
        // It closes its connection first; one that cannot answer is ended anyway.
        const timeout = setTimeout(done, STOP_TIMEOUT_MS)
        worker.addEventListener('message', ({ data }) => data === 'stopped' && done())
        worker.addEventListener('close', done)
        worker.postMessage('stop')
      })),
  }
}
