import { sql } from 'drizzle-orm'
import type { Tx } from './client'

/** Runs `fn` in one write transaction: committed if it resolves, rolled back if it throws. */
export type RunTransaction = <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>

interface Job {
  fn: (tx: Tx) => Promise<unknown>
  resolve(value: unknown): void
  reject(error: unknown): void
}

/** Enough to amortise a commit; few enough that the last job in a group does not wait long. */
const MAX_GROUP = 32

/**
 * The single writer with group commit: the writes that queued up while one transaction ran
 * share the next one, each inside its own savepoint. A commit (BEGIN IMMEDIATE … COMMIT, the
 * WAL append) costs about as much as ten statements here, and under load most writes wait
 * behind another, so sharing it is the writer's largest saving. Each job still commits or
 * fails alone: a job that throws rolls back to its savepoint and only its promise rejects;
 * if the transaction itself fails (the commit, or a rollback to a savepoint) every job of
 * the group rejects, and none of their writes happened. Jobs run in arrival order, and a
 * job's promise settles only once its group has committed.
 */
export function groupCommit(transaction: RunTransaction, maxGroup = MAX_GROUP) {
  const queue: Job[] = []
  let draining = false

  async function runAlone(job: Job) {
    await transaction(job.fn).then(job.resolve, job.reject)
  }

  async function runGroup(group: Job[]) {
    const settle: (() => void)[] = []
    try {
      await transaction(async (tx) => {
        for (const job of group) {
          await tx.run(sql`SAVEPOINT job`)
          try {
            const value = await job.fn(tx)
            await tx.run(sql`RELEASE job`)
            settle.push(() => job.resolve(value))
          } catch (error) {
            try {
              await tx.run(sql`ROLLBACK TO job`)
              await tx.run(sql`RELEASE job`)
            } catch {
              // SQLite ended the transaction itself (a full disk, an I/O error): the whole group fails below, with the error that ended it.
              throw error
            }
            settle.push(() => job.reject(error))
          }
        }
      })
    } catch (error) {
      for (const job of group) job.reject(error)
      return
    }
    for (const done of settle) done()
  }

  async function drain() {
    while (queue.length) {
      const group = queue.splice(0, maxGroup)
      await (group.length === 1 ? runAlone(group[0]!) : runGroup(group))
      // One event-loop turn between transactions: requests that arrived meanwhile (the
      // driver is synchronous, so none is read during one) queue up and join the next group.
      await new Promise((resolve) => setImmediate(resolve))
    }
    draining = false
  }

  return function write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      queue.push({ fn, resolve: resolve as (value: unknown) => void, reject })
      if (!draining) {
        draining = true
        void drain()
      }
    })
  }
}
