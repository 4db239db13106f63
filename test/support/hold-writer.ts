import type { Database } from '../../src/db/client'

/** Holds the single writer until `release()`: everything sent meanwhile queues behind it and is written as one batch. */
export function holdWriter(database: Database) {
  let release!: () => void
  const held = new Promise<void>((resolve) => (release = resolve))
  const done = database.write(() => held)
  return async () => {
    release()
    await done
  }
}
