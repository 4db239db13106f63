import { cpuTicks } from './proc'
import { runWrk, type WrkOptions } from './wrk'

/** One wrk thread and few connections: the server, not the generator, is what is measured. */
export const CPU_WRK = { threads: 1, connections: 16 }

/** How long each round of the bench's uncached-list line runs. */
export const UNCACHED_ROUND = '4s'

export interface CpuRound {
  /** Server CPU (user + system) per request, in µs. */
  perRequest: number
  system: number
  rps: number
}

/**
 * µs of server CPU a request over `rounds` wrk runs after a 1 s warm-up, read from the kernel's
 * count of the server process's CPU time: steadier than req/s on a shared box, since another
 * tenant slows the generator and the server alike but hardly changes what a request costs.
 */
export async function serverCpu(pid: number, options: WrkOptions, rounds: number): Promise<CpuRound[]> {
  await runWrk({ ...options, duration: '1s' })
  const measured: CpuRound[] = []
  for (let i = 0; i < rounds; i++) {
    const before = cpuTicks(pid)
    const run = await runWrk(options)
    const after = cpuTicks(pid)
    // Clock ticks are 10 ms: 10,000 µs each.
    const perRequest = (ticks: number) => (ticks * 10_000) / run.requests
    measured.push({ perRequest: perRequest(after.user + after.system - before.user - before.system), system: perRequest(after.system - before.system), rps: run.rps })
  }
  return measured
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
