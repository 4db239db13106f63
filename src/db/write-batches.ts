import type { Tx } from './client'

/** One request's end in a batch: its answer, or the error that fails it alone. */
export type BatchOutcome<O> = { value: O } | { error: unknown }

interface Waiting<I, O> {
  input: I
  resolve(value: O): void
  reject(error: unknown): void
}

/**
 * Requests that queue up while the writer is busy run as ONE write job: `run` gets them all
 * (in arrival order) and writes them together, one statement per table for the group instead
 * of one job, savepoint and statement set each. Each request still succeeds or fails on its
 * own: `run` answers an outcome per input, and only a failure of the whole job (the commit,
 * an unexpected SQL error) fails the group. A batch holds at most one request per `keyOf`
 * (a later one waits for the next batch), so requests that must see each other's writes,
 * like one customer's two checkouts, never share one. Outcomes settle after the commit.
 * `write` may hand `run` more than the transaction (`W`): orders' lifecycle gives its moves too.
 */
export function writeBatches<I, O, W = Tx>(write: <T>(fn: (tx: W) => Promise<T>) => Promise<T>, run: (tx: W, inputs: I[]) => Promise<BatchOutcome<O>[]>, keyOf: (input: I) => string) {
  let waiting: Waiting<I, O>[] = []
  let scheduled = false

  /** The requests of the batch that starts now; the rest (a key already in it) stay for the next. */
  function takeBatch() {
    const keys = new Set<string>()
    const batch: Waiting<I, O>[] = []
    const later: Waiting<I, O>[] = []
    for (const request of waiting) {
      const key = keyOf(request.input)
      if (keys.has(key)) later.push(request)
      else {
        keys.add(key)
        batch.push(request)
      }
    }
    waiting = later
    return batch
  }

  function schedule() {
    scheduled = true
    let batch: Waiting<I, O>[] | undefined
    // Taken when the writer reaches the job, not when it was queued: everything that arrived meanwhile joins.
    const start = () => {
      batch = takeBatch()
      scheduled = false
      if (waiting.length) schedule()
      return batch
    }
    write((tx) =>
      run(
        tx,
        start().map((request) => request.input),
      ),
    ).then(
      (outcomes) => outcomes.forEach((outcome, i) => ('error' in outcome ? batch![i]!.reject(outcome.error) : batch![i]!.resolve(outcome.value))),
      (error) => {
        // A transaction that failed before it ran the job fails the requests it would have taken.
        for (const request of batch ?? start()) request.reject(error)
      },
    )
  }

  return function submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      waiting.push({ input, resolve, reject })
      if (!scheduled) schedule()
    })
  }
}
