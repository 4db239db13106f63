import { and, eq, isNull } from 'drizzle-orm'
import { processPhoto } from '../../lib/images'
import { notFound } from '../../lib/errors'
import { checkAddress, sealAddress } from './address'
import type { AddressInput } from './model'
import { checkPassword } from './passwords'
import { keepAnAdmin, liveUser, photoPath, toProfile, type UserRow } from './records'
import { sessions, users } from './schema'
import type { AccountsDeps } from './service'

/** A customer's own account: profile, address, photo, erasure. */
export class Profiles {
  constructor(private readonly deps: AccountsDeps) {}

  async me(userId: string) {
    return toProfile(await liveUser(this.deps.database.db, userId), this.deps)
  }

  async updateMe(userId: string, patch: { name?: string; address?: AddressInput }) {
    const set: Partial<UserRow> = { updatedAt: this.deps.clock.iso() }
    if (patch.name !== undefined) set.name = patch.name.trim()
    if (patch.address) set.addressSealed = sealAddress(checkAddress(patch.address, 'address'), this.deps.dataKeys)
    const user = await this.deps.database.write(async (tx) =>
      tx
        .update(users)
        .set(set)
        .where(and(eq(users.id, userId), isNull(users.deletedAt)))
        .returning()
        .get(),
    )
    if (!user) throw notFound('User')
    return toProfile(user, this.deps)
  }

  /** Erases personal data and ends every session; orders stay, without the personal data. The last enabled admin cannot (409). */
  async deleteMe(userId: string, password: string) {
    const user = await checkPassword(this.deps, userId, password)
    const now = this.deps.clock.iso()
    await this.deps.database.write(async (tx) => {
      await keepAnAdmin(tx, user, 'erase their own account')
      await tx.update(users).set({ email: null, name: '', passwordHash: null, addressSealed: null, photoKey: null, deletedAt: now, updatedAt: now }).where(eq(users.id, userId))
      await tx
        .update(sessions)
        .set({ revokedAt: now })
        .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)))
      for (const erase of this.deps.erasers ?? []) await erase(tx, userId)
    })
    await this.deps.revoked?.revoke(userId)
    if (user.photoKey) await this.deps.files.delete(user.photoKey)
  }

  async setPhoto(userId: string, upload: File) {
    const bytes = await processPhoto(new Uint8Array(await upload.arrayBuffer()))
    const key = `${crypto.randomUUID()}.webp`
    await this.deps.files.put(key, bytes, 'image/webp')
    const previous = await liveUser(this.deps.database.db, userId)
    await this.deps.database.write((tx) => tx.update(users).set({ photoKey: key, updatedAt: this.deps.clock.iso() }).where(eq(users.id, userId)))
    if (previous.photoKey) await this.deps.files.delete(previous.photoKey)
    return { photo_url: this.deps.fileUrl(photoPath(key)) }
  }

  async deletePhoto(userId: string) {
    const user = await liveUser(this.deps.database.db, userId)
    if (!user.photoKey) return
    await this.deps.database.write((tx) => tx.update(users).set({ photoKey: null, updatedAt: this.deps.clock.iso() }).where(eq(users.id, userId)))
    await this.deps.files.delete(user.photoKey)
  }

  async photo(key: string) {
    const bytes = await this.deps.files.get(key)
    if (!bytes) throw notFound('Photo')
    return bytes
  }
}
