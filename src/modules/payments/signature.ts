import { createHmac } from 'node:crypto'
import { safeEqual } from '../../lib/crypto'
import { AppError } from '../../lib/errors'

/** A webhook older than this (or this far in the future) is refused: a captured one cannot be replayed later. */
const SIGNATURE_TOLERANCE_S = 5 * 60

/** 401 without a Bearer challenge: the webhook authenticates by signature, not by token. */
const badSignature = (message: string) => new AppError(401, 'unauthorized', message)

/** Hex HMAC-SHA256 of `<t>.<raw body>`, over the body's exact bytes. */
const signatureOf = (secret: string, t: string, rawBody: string | Uint8Array) => createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest('hex')

/** `Shop-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. */
export const signWebhook = (secret: string, rawBody: string | Uint8Array, unixSeconds: number) => `t=${unixSeconds},v1=${signatureOf(secret, String(unixSeconds), rawBody)}`

/**
 * Exactly one `t=`; one or more `v1=`, any of which may match: a sender rotating its
 * secret signs with the old and the new one for a while (as Stripe does).
 */
export function verifyWebhookSignature(secret: string, rawBody: Uint8Array, header: string | undefined, nowMs: number) {
  const pairs = (header ?? '').split(',').map((part) => {
    const at = part.indexOf('=')
    return at < 0 ? [part.trim(), ''] : [part.slice(0, at).trim(), part.slice(at + 1).trim()]
  })
  const timestamps = pairs.filter(([key]) => key === 't').map(([, value]) => value)
  const signatures = pairs.filter(([key, value]) => key === 'v1' && value).map(([, value]) => value!)
  const t = timestamps[0]
  if (timestamps.length !== 1 || !t || !/^\d{1,12}$/.test(t) || !signatures.length) throw badSignature('Missing or malformed Shop-Signature')
  if (Math.abs(nowMs / 1000 - Number(t)) > SIGNATURE_TOLERANCE_S) throw badSignature('The webhook timestamp is outside the 5 minute tolerance')
  const expected = signatureOf(secret, t, rawBody)
  // Every candidate is compared (no early exit), each in constant time.
  const matches = signatures.map((candidate) => safeEqual(candidate, expected))
  if (!matches.includes(true)) throw badSignature('The webhook signature does not match')
}
