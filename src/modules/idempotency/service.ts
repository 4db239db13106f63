import { and, eq, isNull, lte, sql } from 'drizzle-orm'
import { prepared, type Database, type Tx } from '../../db/client'
import type { Clock } from '../../lib/clock'
import type { Logger } from '../../lib/logger'
import { hmacSha256Hex } from '../../lib/crypto'
import { conflict, type AppError } from '../../lib/errors'
import { idempotencyKeys } from './schema'

const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000
const SWEEP_EVERY_MS = 3600 * 1000

export interface IdempotentRequest {
  userId: string
  key: string
  fingerprint: string
}

export interface StoredResponse {
  status: number
  body: unknown
}

/** The rows of many `(userId, key)` pairs, given as one JSON array: the statement's shape does not depend on how many. */
const keysIn = prepared((q) =>
  q
    .select()
    .from(idempotencyKeys)
    .where(sql`(${idempotencyKeys.userId}, ${idempotencyKeys.key}) IN (SELECT value ->> '$.userId', value ->> '$.key' FROM json_each(${sql.placeholder('keys')}))`)
    .prepare(),
)
/** Many rows written (or written over) in one statement, from one JSON array of `{ userId, key, fingerprint, response, expiresAt }`. */
const storeKeys = prepared((q) =>
  q
    .insert(idempotencyKeys)
    // `response` is JSON text, or NULL while the request runs (the column's encoder would store the text "null"); `WHERE true` lets SQLite parse the upsert after a SELECT.
    .select(sql`SELECT value ->> '$.userId', value ->> '$.key', value ->> '$.fingerprint', value ->> '$.response', value ->> '$.expiresAt' FROM json_each(${sql.placeholder('rows')}) WHERE true`)
    .onConflictDoUpdate({
      target: [idempotencyKeys.userId, idempotencyKeys.key],
      set: { fingerprint: sql`excluded.fingerprint`, response: sql`excluded.response`, expiresAt: sql`excluded.expires_at` },
    })
    .prepare(),
)

/** Object keys sorted, so a retry that orders its JSON differently is still the same request. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v))

/**
 * `Idempotency-Key` per user: the first response is stored in the transaction of the
 * effect, so a retry either finds it or finds nothing happened. Fingerprints are keyed
 * hashes (a body may hold a card number; a plain hash of one is easy to reverse).
 */
export class Idempotency {
  constructor(private readonly secret: string) {}

  request(userId: string, key: string, route: string, body: unknown): IdempotentRequest {
    return { userId, key, fingerprint: hmacSha256Hex(this.secret, `${route}\n${canonical(body ?? null)}`) }
  }

  /**
   * For each request (null: one sent without a key), the stored response of an earlier
   * request with its key, or null when there is none (then the caller acts and saves its
   * answer in the same transaction), or the 409 `conflict` it gets: another request under the
   * key, or the first one still running. One read for the whole batch.
   */
  async replayMany(tx: Tx, asks: readonly { request: IdempotentRequest | null; nowMs: number }[]): Promise<(StoredResponse | AppError | null)[]> {
    const keyed = asks.flatMap(({ request }) => (request ? [{ userId: request.userId, key: request.key }] : []))
    const rows = keyed.length ? await keysIn(tx).all({ keys: JSON.stringify(keyed) }) : []
    const rowOf = new Map(rows.map((row) => [`${row.userId}\n${row.key}`, row]))
    return asks.map(({ request, nowMs }) => {
      const row = request && rowOf.get(`${request.userId}\n${request.key}`)
      // An expired row is as good as gone: the next write under the key replaces it, the sweep deletes the rest.
      if (!row || row.expiresAt <= nowMs) return null
      if (row.fingerprint !== request!.fingerprint) return conflict('This Idempotency-Key was used with another request')
      if (!row.response) return conflict('A request with this Idempotency-Key is still being processed; retry shortly')
      return row.response
    })
  }

  /**
   * Claims the keys before effects that must call out (payments), so concurrent retries
   * wait their turn. A claim lapses after `holdMs` (as long as the request can take): a
   * request that died (a crash) never holds its key for the whole day.
   */
  reserveMany(tx: Tx, asks: readonly { request: IdempotentRequest | null; nowMs: number }[], holdMs = IDEMPOTENCY_TTL_MS) {
    return this.storeMany(
      tx,
      asks.map(({ request, nowMs }) => ({ request, response: null, expiresAt: nowMs + holdMs })),
    )
  }

  /** The answers of requests (null: sent without a key), kept for their retries: in the transaction of their effects. */
  saveMany(tx: Tx, answers: readonly { request: IdempotentRequest | null; response: StoredResponse; nowMs: number }[]) {
    return this.storeMany(
      tx,
      answers.map(({ request, response, nowMs }) => ({ request, response, expiresAt: nowMs + IDEMPOTENCY_TTL_MS })),
    )
  }

  /** Writes over the rows `replayMany` found expired, or the ones these requests reserved. */
  private async storeMany(tx: Tx, entries: { request: IdempotentRequest | null; response: StoredResponse | null; expiresAt: number }[]) {
    const rows = entries.flatMap(({ request, response, expiresAt }) =>
      request ? [{ userId: request.userId, key: request.key, fingerprint: request.fingerprint, response: response && JSON.stringify(response), expiresAt }] : [],
    )
    if (rows.length) await storeKeys(tx).run({ rows: JSON.stringify(rows) })
  }

  /** Gives back a key whose request never finished (no response stored); true when there was one. */
  async releaseUnfinished(tx: Tx, userId: string, key: string): Promise<boolean> {
    const released = await tx
      .delete(idempotencyKeys)
      .where(and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key), isNull(idempotencyKeys.response)))
      .returning({ key: idempotencyKeys.key })
    return released.length > 0
  }

  /** Deletes expired keys, off the request path (each request used to delete its user's). */
  sweeper(database: Database, clock: Clock, logger: Logger, everyMs = SWEEP_EVERY_MS) {
    let timer: ReturnType<typeof setInterval> | undefined
    const sweep = () => database.write((tx) => tx.delete(idempotencyKeys).where(lte(idempotencyKeys.expiresAt, clock.now()))).then((result) => result.rowsAffected)
    return {
      sweep,
      start() {
        timer = setInterval(() => void sweep().catch((error) => logger.warn('idempotency key sweep failed', { error: String(error) })), everyMs)
      },
      stop() {
        clearInterval(timer)
      },
    }
  }

  /** Gives a reserved key back when the effect it guarded did not happen, so a retry may act (a key with its answer saved stays). */
  async release(tx: Tx, request: IdempotentRequest) {
    await this.releaseUnfinished(tx, request.userId, request.key)
  }
}
