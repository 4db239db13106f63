import { randomBytes } from 'node:crypto'

/** The three secrets production requires, fresh for one test run. */
export const freshSecrets = () => ({
  JWT_SECRET: randomBytes(32).toString('base64url'),
  WEBHOOK_SECRET: randomBytes(32).toString('base64url'),
  DATA_KEY: randomBytes(32).toString('base64'),
})
