// The jobs module's face: durable background jobs, scheduled inside the caller's transaction.
export { JobQueue, scheduleJobs, type JobSpec } from './queue'
