import { expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { eq } from 'drizzle-orm'
import { startShop } from './support/harness'
import { freshSecrets } from './support/secrets'
import { loadConfig } from '../src/config'
import { createDeps } from '../src/deps'
import { dataKeyFrom, open, seal } from '../src/lib/crypto'
import { users } from '../src/modules/accounts/schema'
import { sealAddress } from '../src/modules/accounts/address'
import { orders } from '../src/modules/orders/schema'
import { shopping } from './support/shopping'

const address = { line1: 'Rua Augusta, 500', city: 'São Paulo', postal_code: '01304-000', country: 'BR' }

/** The keys production would build from DATA_KEY and DATA_KEYS_PREVIOUS. */
async function keysFromEnvironment(dir: string, current: string, previous?: string) {
  const deps = await createDeps(
    loadConfig({
      NODE_ENV: 'test',
      DATABASE_URL: `file:${join(dir, `keys-${randomBytes(4).toString('hex')}.db`)}`,
      ...freshSecrets(),
      DATA_KEY: current,
      ...(previous ? { DATA_KEYS_PREVIOUS: previous } : {}),
    }),
  )
  await deps.close()
  return deps.dataKeys
}

test('key rotation: the old key still opens what it sealed, new writes use the new key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shop-keys-'))
  const databaseUrl = `file:${join(dir, 'shop.db')}`
  const oldKey = randomBytes(32).toString('base64')
  const newKey = randomBytes(32).toString('base64')
  const sealedOf = async (shop: Awaited<ReturnType<typeof startShop>>, id: string) =>
    (await shop.database.db.select({ sealed: users.addressSealed }).from(users).where(eq(users.id, id)).get())!.sealed!
  try {
    const before = await startShop({ databaseUrl, deps: { dataKeys: await keysFromEnvironment(dir, oldKey) } })
    const u = await before.register('Rotating Customer')
    expect((await before.request('PATCH', '/v1/me', { token: u.token, body: { address } })).status).toBe(200)
    const underOld = await sealedOf(before, u.id)
    expect(underOld.split('.')[1]).toBe(dataKeyFrom(oldKey).id)
    expect(underOld).not.toContain('Augusta')
    await before.close()

    const after = await startShop({ databaseUrl, deps: { dataKeys: await keysFromEnvironment(dir, newKey, oldKey) } })
    try {
      const login = await after.request('POST', '/v1/auth/login', { body: { email: u.email, password: u.password } })
      expect(login.status).toBe(200)
      expect(login.body.user.address).toEqual(address)
      // Reading does not re-seal; writing does, under the new key.
      expect(await sealedOf(after, u.id)).toBe(underOld)
      const moved = { ...address, line1: 'Rua Oscar Freire, 10' }
      expect((await after.request('PATCH', '/v1/me', { token: login.body.access_token, body: { address: moved } })).body.address).toEqual(moved)
      const underNew = await sealedOf(after, u.id)
      expect(underNew.split('.')[1]).toBe(dataKeyFrom(newKey).id)
      expect(open(underNew, [dataKeyFrom(newKey)])).toBe(JSON.stringify(moved))
    } finally {
      await after.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('sealed values: a fresh IV each time, and a changed byte or a wrong key does not open', () => {
  const key = dataKeyFrom(randomBytes(32).toString('base64'))
  const other = dataKeyFrom(randomBytes(32).toString('base64'))
  const first = seal('secret address', key)
  expect(seal('secret address', key)).not.toBe(first)
  expect(open(first, [other, key])).toBe('secret address')
  expect(() => open(first, [other])).toThrow()
  const parts = first.split('.')
  const body = Buffer.from(parts[4]!, 'base64url')
  body[0]! ^= 1
  parts[4] = body.toString('base64url')
  expect(() => open(parts.join('.'), [key])).toThrow()
  // A key id pointing at the wrong key is caught by the GCM tag too.
  expect(() => open(first.replace(`.${key.id}.`, `.${other.id}.`), [other])).toThrow()
})

/** A data key that counts the AES operations run with it: seal and open each read `key` once. */
function countingKey() {
  const { id, key } = dataKeyFrom(randomBytes(32).toString('base64'))
  const counted = {
    id,
    uses: 0,
    get key() {
      counted.uses++
      return key
    },
  }
  return counted
}

test('an order costs one crypto operation: a given address is sealed once; the profile address is copied sealed (an older key too) and opened once for the answer', async () => {
  const current = countingKey()
  const previous = countingKey()
  const s = await startShop({ deps: { dataKeys: [current, previous] } })
  const uses = () => current.uses + previous.uses
  try {
    const shop = shopping(s)
    const p = await shop.product(10)
    const u = await shop.customerWithCart([{ id: p.id, quantity: 1 }])
    // A profile address sealed before the current key existed.
    const profileSealed = sealAddress(address, [previous])
    await s.database.write((tx) => tx.update(users).set({ addressSealed: profileSealed }).where(eq(users.id, u.id)))
    const orderSealed = async (id: string) => (await s.database.db.select({ sealed: orders.shippingAddressSealed }).from(orders).where(eq(orders.id, id)).get())!.sealed

    let before = uses()
    const fromProfile = await shop.checkout(u.token, {}, {})
    expect(fromProfile.status).toBe(201)
    expect(fromProfile.body.shipping_address).toEqual(address)
    expect(uses() - before).toBe(1)
    expect(await orderSealed(fromProfile.body.id)).toBe(profileSealed)
    expect((await s.request('GET', `/v1/orders/${fromProfile.body.id}`, { token: u.token })).body.shipping_address).toEqual(address)

    await s.request('POST', '/v1/cart/items', { token: u.token, body: { product_id: p.id, quantity: 1 } })
    const elsewhere = { ...address, line1: 'Rua Oscar Freire, 10' }
    before = uses()
    const given = await shop.checkout(u.token, {}, { shipping_address: elsewhere })
    expect(given.status).toBe(201)
    expect(given.body.shipping_address).toEqual(elsewhere)
    expect(uses() - before).toBe(1)
    expect((await orderSealed(given.body.id))!.split('.')[1]).toBe(current.id)
  } finally {
    await s.close()
  }
})
