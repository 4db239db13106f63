// A job worker as its own process against a shared database file: the jobs test runs two of
// these at once to show that separate instances never run one job twice. Each run appends
// the job's `n` to RUNS_FILE (O_APPEND: whole lines, whatever the other process writes).
import { appendFileSync } from 'node:fs'
import { openDatabase } from '../../src/db/client'
import { ManualClock } from '../../src/lib/clock'
import { createLogger } from '../../src/lib/logger'
import { JobQueue } from '../../src/modules/jobs/queue'

const env = (name: string) =>
  process.env[name] ??
  (() => {
    throw new Error(`${name} is required`)
  })()
const database = await openDatabase({ url: env('DATABASE_URL') })
const queue = new JobQueue({ database, clock: new ManualClock(Number(env('NOW_MS'))), logger: createLogger('silent'), owner: env('OWNER'), batchSize: 2 })
queue.register(env('KIND'), async ({ n }) => {
  appendFileSync(env('RUNS_FILE'), `${env('OWNER')} ${n}\n`)
  await Bun.sleep(1)
})
while ((await queue.runDue()) > 0);
await database.close()
