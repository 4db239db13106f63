// The jobs module's face: durable background jobs, scheduled inside the caller's transaction.
export { JobQueue, scheduleJobs, settleJobs, type JobHandler, type JobSpec } from './queue'
