import { AppError } from '../../lib/errors'
import type { Database } from '../../db/client'
import { liveUser } from './records'

export interface PasswordHashing {
  hash(password: string): Promise<string>
  verify(password: string, hash: string): Promise<boolean>
}

/** argon2id with Bun's defaults (64 MiB, t=2); tests may pass cheaper parameters. */
export const argon2id = (memoryCost?: number, timeCost?: number): PasswordHashing => ({
  hash: (password) => Bun.password.hash(password, { algorithm: 'argon2id', ...(memoryCost ? { memoryCost, timeCost } : {}) }),
  verify: (password, hash) => Bun.password.verify(password, hash),
})

export const invalidCredentials = () => new AppError(401, 'invalid_credentials', 'Email or password is wrong')

/** The live account, once `password` proved to be its own (before changing or erasing it). */
export async function checkPassword(deps: { database: Database; passwords: PasswordHashing }, userId: string, password: string) {
  const user = await liveUser(deps.database.db, userId)
  if (!user.passwordHash || !(await deps.passwords.verify(password, user.passwordHash))) throw invalidCredentials()
  return user
}
