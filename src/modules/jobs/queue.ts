import { and, eq, inArray, isNull, lte, or, sql } from 'drizzle-orm'
import { Gauge, type Registry } from 'prom-client'
import { prepared, type Database, type Tx } from '../../db/client'
import { rowInserter } from '../../db/row-inserter'
import { isoAt, type Clock } from '../../lib/clock'
import { newId } from '../../lib/ids'
import type { Logger } from '../../lib/logger'
import { jobs } from './schema'

export interface JobSpec {
  kind: string
  payload: Record<string, unknown>
  /** Epoch milliseconds of the injected clock. */
  runAt: number
  /** At most one job per key, ever: scheduling it again is a no-op. */
  dedupeKey?: string
}

const insertJobs = rowInserter(jobs, ['id', 'kind', 'payload', 'dedupeKey', 'runAt', 'createdAt'], { ignoreConflicts: true })

/**
 * Schedules jobs inside the caller's write transaction, so a job exists exactly when the
 * effect that needs it does (an order and its payment check commit together). One
 * statement per 50: the flash-sale allocator schedules a payment check per winner.
 */
export async function scheduleJobs(tx: Tx, specs: JobSpec[], at: string): Promise<void> {
  await insertJobs(
    tx,
    specs.map((spec) => ({ id: newId(), kind: spec.kind, payload: spec.payload, dedupeKey: spec.dedupeKey ?? null, runAt: spec.runAt, createdAt: at })),
  )
}

/** Runs one job; it must be idempotent: a job whose lease ran out may run again elsewhere. */
export type JobHandler = (payload: Record<string, unknown>) => Promise<void>

export interface JobKindOptions {
  /** Attempts before the job is set aside as failed; `Infinity` for work owed to someone (a webhook, a refund) that must never be given up. */
  maxAttempts?: number
}

const settle = prepared((q) =>
  q
    .update(jobs)
    .set({ doneAt: sql`${sql.placeholder('at')}`, leaseOwner: null, leaseUntil: null })
    .where(and(sql`${jobs.dedupeKey} IN (SELECT value FROM json_each(${sql.placeholder('keys')}))`, isNull(jobs.doneAt)))
    .prepare(),
)
/**
 * Marks the jobs under `dedupeKeys` done in the caller's transaction, one UPDATE for all: the
 * effects they stood guard for happened another way (webhooks delivered at once, before their
 * retries were due).
 */
export async function settleJobs(tx: Tx, dedupeKeys: string[], at: string): Promise<void> {
  await settle(tx).run({ keys: JSON.stringify(dedupeKeys), at })
}

export interface JobQueueOptions {
  database: Database
  clock: Clock
  logger: Logger
  metrics?: Registry
  /** This instance's lease owner id. */
  owner?: string
  leaseMs?: number
  pollMs?: number
  batchSize?: number
  maxAttempts?: number
}

type JobRow = typeof jobs.$inferSelect

const retryDelay = (attempts: number) => Math.min(1000 * 2 ** attempts, 10 * 60_000)

/**
 * Polls the jobs table and runs what is due. A job is claimed by one guarded UPDATE that
 * only takes unleased (or lease-expired) due rows, inside the serialised write
 * transaction, so several instances sharing the database never run one job twice at once.
 * A job that was due while no server ran is simply due at the next poll.
 */
export class JobQueue {
  private readonly handlers = new Map<string, { run: JobHandler; maxAttempts?: number }>()
  private readonly owner: string
  private timer?: ReturnType<typeof setInterval>
  private pass: Promise<number> | null = null

  constructor(private readonly options: JobQueueOptions) {
    this.owner = options.owner ?? newId()
    if (options.metrics) this.registerBacklogGauge(options.metrics)
  }

  register(kind: string, handler: JobHandler, options: JobKindOptions = {}) {
    this.handlers.set(kind, { run: handler, maxAttempts: options.maxAttempts })
  }

  /**
   * Runs the job under `dedupeKey` now, if it is not done, running or set aside: for an
   * answer that should carry the effect (a refund) while the job stays the durable record
   * (a failure here leaves it scheduled, with its backoff). True when this call ran it.
   */
  async runNow(dedupeKey: string): Promise<boolean> {
    const { database, clock, leaseMs = 60_000 } = this.options
    const now = clock.now()
    const [job] = await database.write((tx) =>
      tx
        .update(jobs)
        .set({ leaseOwner: this.owner, leaseUntil: now + leaseMs, attempts: sql`${jobs.attempts} + 1` })
        .where(and(eq(jobs.dedupeKey, dedupeKey), isNull(jobs.doneAt), isNull(jobs.failedAt), or(isNull(jobs.leaseUntil), lte(jobs.leaseUntil, now))))
        .returning(),
    )
    if (!job) return false
    await this.execute(job)
    return true
  }

  /**
   * Runs every job due now and resolves when they have run. Passes of one instance never
   * overlap: a caller arriving mid-pass waits for it, then runs its own (tests call this
   * instead of waiting for the poll).
   */
  async runDue(): Promise<number> {
    while (this.pass) await this.pass.catch(() => undefined)
    this.pass = this.drain()
    try {
      return await this.pass
    } finally {
      this.pass = null
    }
  }

  start() {
    const poll = () => void this.runDue().catch((error) => this.options.logger.error('job poll failed', { error: String(error) }))
    this.timer = setInterval(poll, this.options.pollMs ?? 1000)
    poll()
  }

  async stop() {
    clearInterval(this.timer)
    await this.pass?.catch(() => undefined)
  }

  private async drain() {
    let ran = 0
    for (let batch = await this.claim(); batch.length; batch = await this.claim()) {
      for (const job of batch) await this.execute(job)
      ran += batch.length
    }
    return ran
  }

  private async claim(): Promise<JobRow[]> {
    const { database, clock, leaseMs = 60_000, batchSize = 20 } = this.options
    const now = clock.now()
    const claimable = and(isNull(jobs.doneAt), isNull(jobs.failedAt), lte(jobs.runAt, now), or(isNull(jobs.leaseUntil), lte(jobs.leaseUntil, now)))
    // An idle poll only reads: the single writer (and other instances sharing the file) stay free.
    if (!(await database.db.select({ id: jobs.id }).from(jobs).where(claimable).limit(1).get())) return []
    return database.write((tx) =>
      tx
        .update(jobs)
        .set({ leaseOwner: this.owner, leaseUntil: now + leaseMs, attempts: sql`${jobs.attempts} + 1` })
        .where(and(claimable, inArray(jobs.id, tx.select({ id: jobs.id }).from(jobs).where(claimable).orderBy(jobs.runAt).limit(batchSize))))
        .returning(),
    )
  }

  private async execute(job: JobRow) {
    const { database, clock, logger } = this.options
    // Only the lease holder may settle the job: if the lease ran out, another owner has it.
    const mine = and(eq(jobs.id, job.id), eq(jobs.leaseOwner, this.owner))
    const handler = this.handlers.get(job.kind)
    const maxAttempts = handler?.maxAttempts ?? this.options.maxAttempts ?? 10
    try {
      if (!handler) throw new Error(`No handler for job kind ${job.kind}`)
      await handler.run(job.payload)
      await database.write((tx) => tx.update(jobs).set({ doneAt: clock.iso(), leaseOwner: null, leaseUntil: null }).where(mine))
    } catch (error) {
      const now = clock.now()
      const exhausted = job.attempts >= maxAttempts
      logger[exhausted ? 'error' : 'warn']('job failed', { job_id: job.id, kind: job.kind, attempts: job.attempts, error: String(error) })
      await database.write((tx) =>
        tx
          .update(jobs)
          .set({ leaseOwner: null, leaseUntil: null, lastError: String(error).slice(0, 500), runAt: now + retryDelay(job.attempts), failedAt: exhausted ? isoAt(now) : null })
          .where(mine),
      )
    }
  }

  private registerBacklogGauge(registry: Registry) {
    const { database, clock } = this.options
    new Gauge({
      name: 'shop_jobs_backlog',
      help: 'Durable jobs by state: due (waiting for a worker), scheduled (not due yet), failed (attempts ran out)',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        const now = clock.now()
        const row = await database.db
          .select({
            due: sql<number>`coalesce(sum(${jobs.failedAt} IS NULL AND ${jobs.doneAt} IS NULL AND ${jobs.runAt} <= ${now}), 0)`,
            scheduled: sql<number>`coalesce(sum(${jobs.failedAt} IS NULL AND ${jobs.doneAt} IS NULL AND ${jobs.runAt} > ${now}), 0)`,
            failed: sql<number>`coalesce(sum(${jobs.failedAt} IS NOT NULL), 0)`,
          })
          .from(jobs)
          .where(isNull(jobs.doneAt))
          .get()
        for (const state of ['due', 'scheduled', 'failed'] as const) this.set({ state }, Number(row?.[state] ?? 0))
      },
    })
  }
}
