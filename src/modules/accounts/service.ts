import type { Database, Tx } from '../../db/client'
import type { FileStore } from '../../infra/storage'
import type { AccessTokens } from '../../lib/access-tokens'
import type { Clock } from '../../lib/clock'
import type { DataKey } from '../../lib/crypto'
import type { FileUrl } from '../../lib/file-urls'
import type { PasswordHashing } from './passwords'
import { Profiles } from './profile'
import { Sessions } from './sessions'
import { Users } from './users'

/** Runs inside the erasing transaction so other modules drop personal data they copied (orders). */
export type Eraser = (tx: Tx, userId: string) => Promise<void>

export interface AccountsDeps {
  database: Database
  tokens: AccessTokens
  clock: Clock
  passwords: PasswordHashing
  dataKeys: DataKey[]
  files: FileStore
  /** Photo URLs as clients see them (absolute under PUBLIC_URL when set). */
  fileUrl: FileUrl
  /** Where an erased or disabled account's still-unexpired access tokens are refused (and a re-enabled one's accepted again). */
  revoked?: { revoke(userId: string): Promise<void>; restore(userId: string): Promise<void> }
  erasers?: Eraser[]
}

/** The accounts module's three services, over the same dependencies. */
export class AccountsService {
  readonly sessions: Sessions
  readonly profiles: Profiles
  readonly users: Users

  constructor(deps: AccountsDeps) {
    this.sessions = new Sessions(deps)
    this.profiles = new Profiles(deps)
    this.users = new Users(deps, this.sessions)
  }
}
