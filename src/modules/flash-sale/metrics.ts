import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

/** `not_ready`: open by the clock, but its units are not reserved yet (503, retry). */
export type EntryAnswer = 'accepted' | 'repeat' | 'sold_out' | 'drop_not_open' | 'not_ready'

/** What an operator watches during a drop: entries by answer, the queue depth, allocations and their latency. */
export class FlashSaleMetrics {
  readonly entries: Counter<'result'>
  readonly allocations: Counter<'outcome'>
  /** Entry accepted → result known (the allocator settled it). */
  readonly latency: Histogram

  constructor(registry: Registry, depths: () => Promise<[dropId: string, depth: number][]>) {
    const registers = [registry]
    this.entries = new Counter({ name: 'flash_sale_entries_total', help: 'Entry attempts by answer', labelNames: ['result'], registers })
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
}
