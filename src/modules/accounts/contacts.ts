import { isNotNull, sql } from 'drizzle-orm'
import { containsIgnoringCase } from '../../lib/text'
import { QueryBuilder } from 'drizzle-orm/sqlite-core'
import { prepared, type Queryable } from '../../db/client'
import { users } from './schema'

/** A JSON array of ids as one parameter: the statement's shape does not depend on how many. */
const contactsIn = prepared((q) =>
  q
    .select({ id: users.id, name: users.name, addressSealed: users.addressSealed })
    .from(users)
    .where(sql`${users.id} IN (SELECT value FROM json_each(${sql.placeholder('ids')}))`)
    .prepare(),
)

/**
 * The name and sealed address of each of these users, in one statement (an allocation batch
 * asks for all its winners at once). The address stays sealed: a caller that copies it into
 * its own rows need not open it, and one that shows it opens it with the data keys.
 */
export const contactsOf = (q: Queryable, userIds: string[]) => contactsIn(q).all({ ids: JSON.stringify(userIds) })

const someIds = prepared((q) => q.select({ id: users.id }).from(users).limit(sql.placeholder('n')).prepare())
/** Up to `n` account ids, whichever: for a rehearsal that needs rows its statements can reference. */
export const someAccountIds = async (q: Queryable, n: number) => (await someIds(q).all({ n })).map((row) => row.id)

/** The ids of erased accounts (DELETE /v1/me), for another module's statement to test against (`inArray`). */
export const erasedAccountIds = new QueryBuilder().select({ id: users.id }).from(users).where(isNotNull(users.deletedAt))

/** Accounts whose email contains `fragment`, case-insensitively (erased ones have none): for another module's statement (`inArray`). */
export const accountIdsByEmail = (fragment: string) =>
  new QueryBuilder()
    .select({ id: users.id })
    .from(users)
    .where(sql`${users.email} GLOB ${containsIgnoringCase(fragment.trim())}`)
