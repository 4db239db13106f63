import { hmacSha256Hex, safeEqual } from '../../lib/crypto'
import { unauthorized } from '../../lib/errors'

/** A webhook older than this (or this far in the future) is refused: a captured one cannot be replayed later. */
export const SIGNATURE_TOLERANCE_S = 5 * 60

/** `Shop-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. */
export const signWebhook = (secret: string, rawBody: string, unixSeconds: number) =>
  `t=${unixSeconds},v1=${hmacSha256Hex(secret, `${unixSeconds}.${rawBody}`)}`

export function verifyWebhookSignature(secret: string, rawBody: string, header: string | undefined, nowMs: number) {
  const parts = new Map((header ?? '').split(',').map((part) => part.trim().split('=', 2) as [string, string]))
  const t = parts.get('t')
  const v1 = parts.get('v1')
  if (!t || !/^\d{1,12}$/.test(t) || !v1) throw unauthorized('Missing or malformed Shop-Signature')
  if (Math.abs(nowMs / 1000 - Number(t)) > SIGNATURE_TOLERANCE_S) throw unauthorized('The webhook timestamp is outside the 5 minute tolerance')
  if (!safeEqual(v1, hmacSha256Hex(secret, `${t}.${rawBody}`))) throw unauthorized('The webhook signature does not match')
}
