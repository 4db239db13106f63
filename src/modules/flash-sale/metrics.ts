import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

import type { EntryOutcome } from './service'

type EntryAnswer = EntryOutcome['kind']

/** What an operator watches during a drop: entries by answer, the queue depth, allocations and their latency. */
export class FlashSaleMetrics {
  /** Entries by answer since the last scrape: a plain addition on the entry route, handed to the counter when it is read. */
  private readonly unreported = new Map<EntryAnswer, number>()
  readonly allocations: Counter<'outcome'>
  /** Entry accepted → result known (the allocator settled it). */
  readonly latency: Histogram

  constructor(registry: Registry, depths: () => Promise<[dropId: string, depth: number][]>) {
    const registers = [registry]
    const unreported = this.unreported
    new Counter({
      name: 'flash_sale_entries_total',
      help: 'Entry attempts by answer',
      labelNames: ['result'],
      registers,
      collect() {
        for (const [result, n] of unreported) this.inc({ result }, n)
        unreported.clear()
      },
    })
    this.allocations = new Counter({ name: 'flash_sale_allocations_total', help: 'Entries decided by the allocator, by outcome', labelNames: ['outcome'], registers })
    this.latency = new Histogram({
      name: 'flash_sale_allocation_latency_seconds',
      help: 'From an entry being accepted to its result being known',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    })
    new Gauge({
      name: 'flash_sale_queue_depth',
      help: 'Accepted entries the allocator has not settled yet, per open drop',
      labelNames: ['drop_id'],
      registers,
      async collect() {
        this.reset()
        for (const [dropId, depth] of await depths()) this.set({ drop_id: dropId }, depth)
      },
    })
  }

  countEntry(answer: EntryAnswer) {
    this.unreported.set(answer, (this.unreported.get(answer) ?? 0) + 1)
  }
}
