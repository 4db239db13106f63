import { readFileSync } from 'node:fs'

/** The process listening on `url`'s port (the shop the bench started), from `ss`. */
export function pidOf(url: string) {
  const port = new URL(url).port
  const found = Bun.spawnSync(['sh', '-c', `ss -ltnpH 'sport = :${port}' | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2`])
    .stdout.toString()
    .trim()
  if (!found) throw new Error(`no process listens on port ${port}`)
  return Number(found)
}

/** User and system CPU time of a process so far, in clock ticks (100 a second on Linux). */
export function cpuTicks(pid: number) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return { user: Number(fields[11]), system: Number(fields[12]) }
}

/** Resident memory of a process now, in MiB (VmRSS). */
export function rssMiB(pid: number) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))!
  return Number(line.split(/\s+/)[1]) / 1024
}
