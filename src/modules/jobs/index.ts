// The jobs module's face: durable background jobs, scheduled inside the caller's transaction.
export { JobQueue, scheduleJobs, settleJob, type JobHandler, type JobSpec } from './queue'
