/** Background work (job worker, scheduler, allocator) started after boot and stopped on shutdown. */
export interface Worker {
  start(): void | Promise<void>
  stop(): void | Promise<void>
}
