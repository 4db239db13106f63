import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import sharp from 'sharp'
import { startShop, type ApiResponse, type TestShop } from './support/harness'
import { jpegWithExif, photoForm, pixelBombPng, pngBytes } from './support/images'
import { users } from '../src/modules/accounts/schema'
import { eq } from 'drizzle-orm'

let s: TestShop
beforeAll(async () => {
  s = await startShop()
})
afterAll(() => s.close())

const address = { line1: 'Av. Paulista, 1000', city: 'São Paulo', state: 'SP', postal_code: '01310-100', country: 'BR' }

describe('GET/PATCH /v1/me', () => {
  test('profile with address, stored encrypted at rest', async () => {
    const u = await s.register('Ana')
    const me = await s.request('GET', '/v1/me', { token: u.token })
    expect(me.status).toBe(200)
    expect(me.body).toEqual({ id: u.id, email: u.email, name: 'Ana', roles: ['customer'], address: null, photo_url: null, created_at: expect.any(String) })
    const patched = await s.request('PATCH', '/v1/me', { token: u.token, body: { name: 'Ana Maria', address } })
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({ name: 'Ana Maria', address })
    const row = await s.database.db.select().from(users).where(eq(users.id, u.id)).get()
    expect(row!.addressSealed).toStartWith('v1.')
    expect(row!.addressSealed).not.toContain('Paulista')
    expect((await s.request('GET', '/v1/me', { token: u.token })).body.address).toEqual(address)
  })

  test('roles, email and unknown fields cannot be patched', async () => {
    const u = await s.register()
    for (const body of [{ roles: ['admin'] }, { email: 'x@example.com' }, { address: { ...address, extra: 1 } }]) {
      const res = await s.request('PATCH', '/v1/me', { token: u.token, body })
      expect(res.status).toBe(422)
      expect(res.body.code).toBe('validation_failed')
    }
    expect((await s.request('GET', '/v1/me', { token: u.token })).body.roles).toEqual(['customer'])
  })

  test('422 for a bad address', async () => {
    const u = await s.register()
    for (const country of ['Brazil', 'XX', 'UK', 'br']) {
      const res = await s.request('PATCH', '/v1/me', { token: u.token, body: { address: { ...address, country } } })
      expect(res.status).toBe(422)
      expect(res.body.errors[0].field).toBe('address.country')
    }
  })

  test('a NUL inside a name or address line answers 422 (the driver would cut the string there)', async () => {
    const u = await s.register('Ana')
    expect((await s.request('PATCH', '/v1/me', { token: u.token, body: { name: 'Ana\u0000Maria' } })).status).toBe(422)
    expect((await s.request('PATCH', '/v1/me', { token: u.token, body: { address: { ...address, line1: 'Rua\u0000 1' } } })).status).toBe(422)
    expect((await s.request('GET', '/v1/me', { token: u.token })).body.name).toBe('Ana')
  })
})

describe('photo', () => {
  test('upload re-encodes to WebP without metadata and serves it with nosniff', async () => {
    const u = await s.register()
    const res = await s.request('PUT', '/v1/me/photo', { token: u.token, raw: photoForm(await jpegWithExif(), 'image/jpeg', 'me.jpg') })
    expect(res.status).toBe(200)
    expect(res.body.photo_url).toMatch(/^\/v1\/photos\/[0-9a-f-]{36}\.webp$/)
    const img = await fetch(s.url + res.body.photo_url)
    expect(img.status).toBe(200)
    expect(img.headers.get('content-type')).toBe('image/webp')
    expect(img.headers.get('x-content-type-options')).toBe('nosniff')
    const meta = await sharp(new Uint8Array(await img.arrayBuffer())).metadata()
    expect(meta.format).toBe('webp')
    expect(Math.max(meta.width!, meta.height!)).toBeLessThanOrEqual(512)
    expect(meta.exif).toBeUndefined()
    expect((await s.request('GET', '/v1/me', { token: u.token })).body.photo_url).toBe(res.body.photo_url)
  })

  test('DELETE removes it', async () => {
    const u = await s.register()
    const put = await s.request('PUT', '/v1/me/photo', { token: u.token, raw: photoForm(await pngBytes()) })
    expect((await s.request('DELETE', '/v1/me/photo', { token: u.token })).status).toBe(204)
    expect((await s.request('GET', '/v1/me', { token: u.token })).body.photo_url).toBeNull()
    expect((await fetch(s.url + put.body.photo_url)).status).toBe(404)
  })

  test('a non-image, an SVG and a JSON body answer 415', async () => {
    const u = await s.register()
    const text = await s.request('PUT', '/v1/me/photo', { token: u.token, raw: photoForm('hello, not an image', 'image/png') })
    expect(text.status).toBe(415)
    expect(text.body.code).toBe('unsupported_media_type')
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
    expect((await s.request('PUT', '/v1/me/photo', { token: u.token, raw: photoForm(svg, 'image/svg+xml', 'x.svg') })).status).toBe(415)
    expect((await s.request('PUT', '/v1/me/photo', { token: u.token, body: { photo: 'x' } })).status).toBe(415)
  })

  test('over 5 MB answers 413', async () => {
    const u = await s.register()
    const big = new Uint8Array(5 * 1024 * 1024 + 1)
    big.set(await pngBytes())
    const res = await s.request('PUT', '/v1/me/photo', { token: u.token, raw: photoForm(big) })
    expect(res.status).toBe(413)
    expect(res.body.code).toBe('payload_too_large')
  })

  test('a 16000x16000 pixel bomb is refused quickly without decoding', async () => {
    const u = await s.register()
    const bomb = pixelBombPng()
    expect(bomb.length).toBeLessThan(100_000)
    const rssBefore = process.memoryUsage().rss
    const res = await s.request('PUT', '/v1/me/photo', { token: u.token, raw: photoForm(bomb) })
    expect(res.status).toBe(415)
    // Decoding it would need 768 MB of pixels; refusing it from the header needs next to nothing.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024)
  })

  test('needs a token', async () => {
    expect((await s.request('PUT', '/v1/me/photo', { raw: photoForm(await pngBytes()) })).status).toBe(401)
  })
})

test('with PUBLIC_URL set, photo_url is an absolute URL under it, in every answer that shows it', async () => {
  const shop = await startShop({ env: { PUBLIC_URL: 'https://api.shop.example/' } })
  try {
    const u = await shop.register()
    const put = await shop.request('PUT', '/v1/me/photo', { token: u.token, raw: photoForm(await pngBytes()) })
    expect(put.body.photo_url).toMatch(/^https:\/\/api\.shop\.example\/v1\/photos\/[0-9a-f-]{36}\.webp$/)
    expect((await shop.request('GET', '/v1/me', { token: u.token })).body.photo_url).toBe(put.body.photo_url)
    expect((await shop.request('POST', '/v1/auth/login', { body: { email: u.email, password: u.password } })).body.user.photo_url).toBe(put.body.photo_url)
    const path = new URL(put.body.photo_url).pathname
    expect((await fetch(shop.url + path)).headers.get('content-type')).toBe('image/webp')
  } finally {
    await shop.close()
  }
})

describe('password and account deletion', () => {
  test('changing the password ends other sessions and keeps this one', async () => {
    const u = await s.register()
    const other = await s.request('POST', '/v1/auth/login', { body: { email: u.email, password: u.password } })
    const wrong = await s.request('PUT', '/v1/me/password', { token: u.token, body: { current_password: 'nope nope', new_password: 'new password 1' } })
    expect(wrong.status).toBe(401)
    expect(wrong.body.code).toBe('invalid_credentials')
    const ok = await s.request('PUT', '/v1/me/password', { token: u.token, body: { current_password: u.password, new_password: 'new password 1' } })
    expect(ok.status).toBe(204)
    expect((await s.request('POST', '/v1/auth/refresh', { body: { refresh_token: other.body.refresh_token } })).status).toBe(401)
    expect((await s.request('POST', '/v1/auth/refresh', { body: { refresh_token: u.refresh_token } })).status).toBe(200)
    expect((await s.request('POST', '/v1/auth/login', { body: { email: u.email, password: 'new password 1' } })).status).toBe(200)
    expect((await s.request('POST', '/v1/auth/login', { body: { email: u.email, password: u.password } })).status).toBe(401)
  })

  test('DELETE /v1/me erases personal data and blocks login', async () => {
    const u = await s.register('To Be Erased')
    await s.request('PATCH', '/v1/me', { token: u.token, body: { address } })
    expect((await s.request('DELETE', '/v1/me', { token: u.token, body: { password: 'wrong pass' } })).status).toBe(401)
    expect((await s.request('DELETE', '/v1/me', { token: u.token, body: { password: u.password } })).status).toBe(204)
    expect((await s.request('POST', '/v1/auth/login', { body: { email: u.email, password: u.password } })).status).toBe(401)
    expect((await s.request('POST', '/v1/auth/refresh', { body: { refresh_token: u.refresh_token } })).status).toBe(401)
    const row = await s.database.db.select().from(users).where(eq(users.id, u.id)).get()
    expect(row).toMatchObject({ email: null, name: '', passwordHash: null, addressSealed: null, photoKey: null })
    // The email is free again.
    expect((await s.request('POST', '/v1/auth/register', { body: { email: u.email, name: 'New', password: 'a fine passphrase' } })).status).toBe(201)
  })
})

describe('admin users', () => {
  test('list and set roles; customers get 403, anonymous 401', async () => {
    const admin = await s.admin()
    const u = await s.register()
    expect((await s.request('GET', '/v1/users')).status).toBe(401)
    const forbidden = await s.request('GET', '/v1/users', { token: u.token })
    expect(forbidden.status).toBe(403)
    expect(forbidden.body.code).toBe('forbidden')
    const first = await s.request('GET', '/v1/users?limit=2', { token: admin.token })
    expect(first.status).toBe(200)
    expect(first.body.data).toHaveLength(2)
    const second = await s.request('GET', `/v1/users?limit=2&cursor=${first.body.next_cursor}`, { token: admin.token })
    expect(second.body.data[0].id > first.body.data[1].id).toBe(true)
    const promoted = await s.request('PATCH', `/v1/users/${u.id}`, { token: admin.token, body: { roles: ['customer', 'admin'] } })
    expect(promoted.status).toBe(200)
    expect(promoted.body.roles).toEqual(['customer', 'admin'])
    expect((await s.request('PATCH', `/v1/users/${u.id}`, { token: admin.token, body: { roles: ['root'] } })).status).toBe(422)
    expect((await s.request('PATCH', '/v1/users/nope', { token: admin.token, body: { roles: ['customer'] } })).status).toBe(404)
  })

  test('erased accounts leave the list; a forged cursor answers 422', async () => {
    const admin = await s.admin()
    const gone = await s.register('Gone')
    await s.request('DELETE', '/v1/me', { token: gone.token, body: { password: gone.password } })
    const ids: string[] = []
    for (let cursor: string | null = ''; cursor !== null; ) {
      const page: ApiResponse = await s.request('GET', `/v1/users?limit=100${cursor ? `&cursor=${cursor}` : ''}`, { token: admin.token })
      ids.push(...page.body.data.map((u: { id: string }) => u.id))
      cursor = page.body.next_cursor
    }
    expect(ids).toContain(admin.id)
    expect(ids).not.toContain(gone.id)
    for (const cursor of ['eyJhIjoxfQ', 'WzEsMl0', 'MTI']) {
      const res = await s.request('GET', `/v1/users?cursor=${cursor}`, { token: admin.token })
      expect(res.status).toBe(422)
      expect(res.body.errors[0].field).toBe('cursor')
    }
  })

  test('the last admin cannot drop the admin role (409)', async () => {
    const lonely = await startShop()
    try {
      const admin = await lonely.admin()
      const res = await lonely.request('PATCH', `/v1/users/${admin.id}`, { token: admin.token, body: { roles: ['customer'] } })
      expect(res.status).toBe(409)
      expect(res.body.code).toBe('conflict')
      const second = await lonely.admin()
      expect((await lonely.request('PATCH', `/v1/users/${admin.id}`, { token: second.token, body: { roles: ['customer'] } })).status).toBe(200)
    } finally {
      await lonely.close()
    }
  })

  test('the last admin cannot erase itself (409); with another admin it can', async () => {
    const lonely = await startShop({ env: { ADMIN_EMAIL: 'only@example.com', ADMIN_PASSWORD: 'the only admin here' } })
    try {
      const login = await lonely.request('POST', '/v1/auth/login', { body: { email: 'only@example.com', password: 'the only admin here' } })
      const token = login.body.access_token
      const res = await lonely.request('DELETE', '/v1/me', { token, body: { password: 'the only admin here' } })
      expect(res.status).toBe(409)
      expect(res.body.code).toBe('conflict')
      expect((await lonely.request('GET', '/v1/me', { token })).body.email).toBe('only@example.com')
      await lonely.admin()
      expect((await lonely.request('DELETE', '/v1/me', { token, body: { password: 'the only admin here' } })).status).toBe(204)
    } finally {
      await lonely.close()
    }
  })

  test('a demoted admin loses access at once, with the same token', async () => {
    const boss = await s.admin()
    const other = await s.admin()
    expect((await s.request('GET', '/v1/users', { token: other.token })).status).toBe(200)
    await s.request('PATCH', `/v1/users/${other.id}`, { token: boss.token, body: { roles: ['customer'] } })
    expect((await s.request('GET', '/v1/users', { token: other.token })).status).toBe(403)
  })

  test('a 401 comes before body validation', async () => {
    const res = await s.request('PATCH', '/v1/users/x', { body: { roles: 'bad' } })
    expect(res.status).toBe(401)
  })
})
