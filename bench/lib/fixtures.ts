/**
 * Fast fixtures: accounts written straight into the server's own database with tokens
 * signed by its own secret. A stampede needs thousands of customers, and registering
 * them would measure argon2 instead of the shop; nothing in the app is weakened for it
 * (no test-only route), the bench just holds what the server holds.
 */
import { openDatabase, type Database } from '../../src/db/client'
import { users } from '../../src/modules/accounts/schema'
import { accessTokens, type Role } from '../../src/lib/access-tokens'
import { newId } from '../../src/lib/ids'

export interface Account {
  id: string
  token: string
}

export interface Fixtures {
  admin(): Promise<Account>
  customers(count: number): Promise<Account[]>
  /** The server's database, for checks the API does not expose (read only). */
  readonly database: Database
  close(): Promise<void>
}

export interface FixtureSource {
  databaseUrl: string
  databaseAuthToken?: string
  jwtSecret: string
}

/** Rows per INSERT: far under SQLite's bound-variable limit. */
const CHUNK = 500

export async function openFixtures(source: FixtureSource): Promise<Fixtures> {
  const database = await openDatabase({ url: source.databaseUrl, authToken: source.databaseAuthToken })
  const tokens = accessTokens(source.jwtSecret)

  async function accounts(count: number, roles: Role[], name: string): Promise<Account[]> {
    const now = new Date().toISOString()
    const rows = Array.from({ length: count }, () => {
      const id = newId()
      return { id, email: `${id}@bench.test`, name, passwordHash: null, roles, createdAt: now, updatedAt: now }
    })
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK)
      await database.write((tx) => tx.insert(users).values(chunk))
    }
    return Promise.all(rows.map(async ({ id }) => ({ id, token: await tokens.sign({ id, roles }) })))
  }

  return {
    database,
    admin: async () => (await accounts(1, ['admin', 'customer'], 'Bench Admin'))[0]!,
    customers: (count) => accounts(count, ['customer'], 'Bench Customer'),
    close: () => database.close(),
  }
}
