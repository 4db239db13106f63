// A worker thread's own connection that checkpoints the WAL of one database file; see checkpoints.ts.
import Database from 'libsql'

declare const self: Worker

let timer: ReturnType<typeof setInterval> | undefined
let db: Database.Database | undefined

self.onmessage = ({ data }: MessageEvent<{ path: string; everyMs: number } | 'stop'>) => {
  if (data === 'stop') {
    clearInterval(timer)
    db?.close()
    postMessage('stopped')
    return
  }
  try {
    db = new Database(data.path)
    const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)')
    timer = setInterval(() => {
      try {
        checkpoint.get()
      } catch (error) {
        postMessage({ error: String(error) })
      }
    }, data.everyMs)
  } catch (error) {
    postMessage({ error: `cannot open ${data.path} to checkpoint it: ${error}` })
  }
}
