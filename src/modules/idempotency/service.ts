import { and, eq, gt, isNull, lte, sql } from 'drizzle-orm'
import { prepared, type Database, type Tx } from '../../db/client'
import type { Clock } from '../../lib/clock'
import type { Logger } from '../../lib/logger'
import { hmacSha256Hex } from '../../lib/crypto'
import { conflict } from '../../lib/errors'
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

const byUserAndKey = and(eq(idempotencyKeys.userId, sql.placeholder('userId')), eq(idempotencyKeys.key, sql.placeholder('key')))
const liveKey = prepared((q) =>
  q
    .select()
    .from(idempotencyKeys)
    .where(and(byUserAndKey, gt(idempotencyKeys.expiresAt, sql.placeholder('now'))))
    .prepare(),
)
const storeKey = prepared((q) =>
  q
    .insert(idempotencyKeys)
    // The response as JSON text, or NULL while the request runs (the column's encoder would store the text "null").
    .values({
      userId: sql.placeholder('userId'),
      key: sql.placeholder('key'),
      fingerprint: sql.placeholder('fingerprint'),
      response: sql`${sql.placeholder('responseJson')}`,
      expiresAt: sql.placeholder('expiresAt'),
    })
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
   * The stored response of an earlier request with this key, or null when there is none
   * (then the caller acts and calls `save` in the same transaction). Another request under
   * the key, or the first one still running, is a 409 `conflict`.
   */
  async replay(tx: Tx, request: IdempotentRequest, nowMs: number): Promise<StoredResponse | null> {
    // An expired row is as good as gone: the next write under the key replaces it, the sweep deletes the rest.
    const row = await liveKey(tx).get({ userId: request.userId, key: request.key, now: nowMs })
    if (!row) return null
    if (row.fingerprint !== request.fingerprint) throw conflict('This Idempotency-Key was used with another request')
    if (!row.response) throw conflict('A request with this Idempotency-Key is still being processed; retry shortly')
    return row.response
  }

  /**
   * Claims the key before an effect that must call out (a payment), so concurrent retries
   * wait their turn. The claim lapses after `holdMs` (as long as the request can take): a
   * request that died (a crash) never holds its key for the whole day.
   */
  reserve(tx: Tx, request: IdempotentRequest, nowMs: number, holdMs = IDEMPOTENCY_TTL_MS) {
    return this.store(tx, request, null, nowMs + holdMs)
  }

  save(tx: Tx, request: IdempotentRequest, response: StoredResponse, nowMs: number) {
    return this.store(tx, request, response, nowMs + IDEMPOTENCY_TTL_MS)
  }

  /** Writes over the row `replay` found expired, or the one this request reserved. */
  private async store(tx: Tx, request: IdempotentRequest, response: StoredResponse | null, expiresAt: number) {
    const responseJson = response === null ? null : JSON.stringify(response)
    await storeKey(tx).run({ userId: request.userId, key: request.key, fingerprint: request.fingerprint, responseJson, expiresAt })
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
