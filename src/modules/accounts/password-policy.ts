import { dictionary } from '@zxcvbn-ts/language-common'
import { AppError } from '../../lib/errors'

export const MIN_PASSWORD_LENGTH = 8
const COMMON_COUNT = 10_000

/**
 * The 10,000 most common passwords of zxcvbn-ts's list (leaked-password frequency order),
 * lower-cased; only those long enough to pass the length rule can reach the check.
 */
const COMMON = new Set(
  (dictionary['passwords-common'] as string[])
    .slice(0, COMMON_COUNT)
    .map((p) => p.toLowerCase())
    .filter((p) => [...p].length >= MIN_PASSWORD_LENGTH),
)

/** Why `password` is too easy to guess for the account of `email`, or undefined when it is not. */
export function passwordWeakness(password: string, email: string): string | undefined {
  // Code points, not UTF-16 units: four emoji are four characters.
  if ([...password].length < MIN_PASSWORD_LENGTH) return `Use at least ${MIN_PASSWORD_LENGTH} characters`
  if (password.trim() === '') return 'Use something other than spaces'
  const lower = password.toLowerCase()
  const address = email.trim().toLowerCase()
  if (lower === address || lower === address.split('@')[0]) return 'Do not use your email address'
  if (COMMON.has(lower)) return 'This password is among the most common ones; choose another'
  return undefined
}

/** 422 `weak_password` naming `field` when the password is too easy to guess. */
export function checkPasswordPolicy(password: string, email: string, field: string) {
  const weakness = passwordWeakness(password, email)
  if (weakness) throw new AppError(422, 'weak_password', weakness, { errors: [{ field, message: weakness }] })
}
