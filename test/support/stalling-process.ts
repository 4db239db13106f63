// A process with the watchdog on (limit in ms: argv[2]) whose event loop either stalls for good
// (`stall`) or stays busy in short slices for 3 s and then exits 0 (`busy`).
import { startWatchdog } from '../../src/infra/watchdog'

startWatchdog(Number(process.argv[2]))
const busyFor = (ms: number) => {
  const until = performance.now() + ms
  while (performance.now() < until);
}
if (process.argv[3] === 'stall') {
  setTimeout(() => {
    for (;;) busyFor(1000)
  }, 200)
} else {
  // Each slice holds the loop for a third of the limit: busy, never stalled.
  const end = performance.now() + 3000
  const slice = () => {
    busyFor(Number(process.argv[2]) / 3)
    if (performance.now() < end) setTimeout(slice, 0)
    else console.log('done')
  }
  slice()
}
