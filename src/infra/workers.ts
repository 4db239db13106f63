import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client'

/** Set by the primary of WORKERS=N in each worker's environment: its index, 0 to N-1. */
export const WORKER_INDEX_ENV = 'SHOP_WORKER_INDEX'

/** What `/metrics` serves: one registry, or a view of the whole instance with the same two members. */
export type MetricsExposition = Pick<Registry, 'metrics' | 'contentType'>

export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[]

/** Between the primary and a worker, over Bun's IPC channel. */
export type WorkerMessage =
  /** worker → primary: listening; the primary starts the next worker or reports the instance up. */
  | { kind: 'ready' }
  /** worker → primary: a `/metrics` request arrived; answer with the instance's exposition. */
  | { kind: 'scrape'; id: number }
  /** primary → worker: the instance's exposition, for the scrape `id`. */
  | { kind: 'scraped'; id: number; text: string }
  /** primary → worker: send this process's metrics. */
  | { kind: 'collect'; id: number }
  /** worker → primary: this process's metrics, for the collect `id`. */
  | { kind: 'collected'; id: number; metrics: MetricsJson }

/** How long a scrape waits for the primary's answer. */
const SCRAPE_TIMEOUT_MS = 5000

/** This process's index when the primary of WORKERS=N started it; undefined when it serves alone. */
export function workerIndex(env: Record<string, string | undefined> = process.env): number | undefined {
  const value = env[WORKER_INDEX_ENV]
  return value === undefined || !process.send ? undefined : Number(value)
}

/** The registries' metrics merged by each metric's aggregator (counters and histograms summed; see each gauge). */
export function aggregateMetrics(parts: MetricsJson[]): Promise<string> {
  return AggregatorRegistry.aggregate(parts).metrics()
}

/**
 * A worker's end of the channel: answers the primary's collects from `registry`, and gives
 * `/metrics` the whole instance (every worker's registry merged by the primary), so a
 * scrape that lands on any worker counts every request of the instance.
 */
export function workerChannel(registry: Registry) {
  const send = (message: WorkerMessage) => process.send!(message)
  const scrapes = new Map<number, (text: string) => void>()
  let nextScrape = 0
  process.on('message', (message: WorkerMessage) => {
    if (message.kind === 'collect') void registry.getMetricsAsJSON().then((metrics) => send({ kind: 'collected', id: message.id, metrics: metrics as MetricsJson }))
    else if (message.kind === 'scraped') scrapes.get(message.id)?.(message.text)
  })
  const instance: MetricsExposition = {
    contentType: registry.contentType,
    metrics: () =>
      new Promise<string>((resolve, reject) => {
        const id = nextScrape++
        const timer = setTimeout(() => {
          scrapes.delete(id)
          reject(new Error(`the primary did not answer a metrics scrape within ${SCRAPE_TIMEOUT_MS} ms`))
        }, SCRAPE_TIMEOUT_MS)
        scrapes.set(id, (text) => {
          clearTimeout(timer)
          scrapes.delete(id)
          resolve(text)
        })
        send({ kind: 'scrape', id })
      }),
  }
  return {
    instance,
    ready: () => send({ kind: 'ready' }),
    /** Called when the primary is gone (its channel closed): the worker stops instead of serving orphaned. */
    onPrimaryGone: (stop: () => void) => process.on('disconnect', stop),
  }
}
