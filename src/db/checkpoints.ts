/** How often the worker copies committed pages from the WAL into the database file. */
const CHECKPOINT_EVERY_MS = 200

export interface Checkpointer {
  stop(): Promise<void>
}

/**
 * WAL checkpoints off the request thread. SQLite checkpoints inside the commit that takes the
 * WAL past 1000 pages, and here that copy and its fsyncs held the only JS thread for ~43 ms
 * (`bench/README.md`). The writer turns that off (`wal_autocheckpoint = 0`, see client.ts)
 * and a worker thread with a connection of its own runs PASSIVE checkpoints, which never wait
 * for a reader or a writer; the WAL is reused from its start once a checkpoint has caught up.
 */
export function startCheckpointer(path: string, onError: (error: string) => void): Checkpointer {
  const worker = new Worker(new URL('./checkpoint-worker.ts', import.meta.url))
  worker.onmessage = ({ data }) => {
    if (data?.error) onError(data.error)
  }
  worker.postMessage({ path, everyMs: CHECKPOINT_EVERY_MS })
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        worker.onmessage = ({ data }) => {
          if (data !== 'stopped') return
          worker.terminate()
          resolve()
        }
        worker.postMessage('stop')
      }),
  }
}
