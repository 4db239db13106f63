import { afterAll, describe, expect, test } from 'bun:test'
import { startShop, castOf, useShop, type Fixture, type TestShop } from './support/harness'
import { testRedis } from './support/redis'
import { eventually } from './support/eventually'
import { openEvents } from './support/sse'

let s: TestShop, admin: Fixture
useShop(async (shop) => ({ s, admin } = await castOf(shop)))

const patch = (shop: TestShop, token: string, id: string, body: unknown) => shop.request('PATCH', `/v1/users/${id}`, { token, body })
const login = (shop: TestShop, u: { email: string; password: string }) => shop.request('POST', '/v1/auth/login', { body: { email: u.email, password: u.password } })

describe('GET /v1/users?q=&role=', () => {
  test('q finds part of a name or an email, case-insensitively; role keeps its holders; each user says whether it is disabled', async () => {
    const tag = crypto.randomUUID().slice(0, 8)
    const maria = await s.register(`María Ñúñez ${tag}`)
    const promoted = await s.register(`Boss ${tag}`)
    await patch(s, admin.token, promoted.id, { roles: ['customer', 'admin'] })
    const search = async (query: string) => {
      const res = await s.request('GET', `/v1/users?limit=100&${query}`, { token: admin.token })
      expect(res.status).toBe(200)
      return res.body.data as { id: string; disabled: boolean; roles: string[] }[]
    }
    expect((await search(`q=${encodeURIComponent(`MARÍA ÑÚÑEZ ${tag}`)}`)).map((u) => u.id)).toEqual([maria.id])
    expect((await search(`q=${encodeURIComponent(`ñúñez ${tag.toUpperCase()}`)}`)).map((u) => u.id)).toEqual([maria.id])
    expect((await search(`q=${maria.email.toUpperCase()}`)).map((u) => u.id)).toEqual([maria.id])
    expect((await search(`q=${tag}&role=admin`)).map((u) => u.id)).toEqual([promoted.id])
    expect((await search(`q=${tag}&role=customer`)).map((u) => u.id)).toEqual([maria.id, promoted.id])
    expect((await search(`q=${tag}`)).every((u) => u.disabled === false)).toBe(true)
    expect((await search('role=admin')).every((u) => u.roles.includes('admin'))).toBe(true)
    for (const bad of ['role=root', 'q=', 'email=x']) expect((await s.request('GET', `/v1/users?${bad}`, { token: admin.token })).status).toBe(422)
  })
})

describe('PATCH /v1/users/{id} { disabled }', () => {
  test("refuses the account's tokens at once, ends its sessions, and its login answers 403 account_disabled; enabling lets it back in", async () => {
    const u = await s.register('Soon Disabled')
    const ticket = (await s.request('POST', '/v1/auth/stream-ticket', { token: u.token })).body.ticket
    const disabled = await patch(s, admin.token, u.id, { disabled: true })
    expect(disabled.status).toBe(200)
    expect(disabled.body).toMatchObject({ id: u.id, disabled: true, roles: ['customer'] })
    for (const [method, path] of [
      ['GET', '/v1/me'],
      ['GET', '/v1/cart'],
      ['GET', '/v1/orders'],
    ] as const) {
      expect((await s.request(method, path, { token: u.token })).status).toBe(401)
    }
    expect((await openEvents(`${s.url}/v1/orders/x/events?ticket=${ticket}`, null)).response.status).toBe(401)
    expect((await s.request('POST', '/v1/auth/refresh', { body: { refresh_token: u.refresh_token } })).status).toBe(401)
    const refused = await login(s, u)
    expect(refused.status).toBe(403)
    expect(refused.body).toMatchObject({ code: 'account_disabled', status: 403 })
    // A wrong password still says only that: nothing about the account's state.
    expect((await login(s, { ...u, password: 'wrong password' })).body.code).toBe('invalid_credentials')

    const enabled = await patch(s, admin.token, u.id, { disabled: false })
    expect(enabled.body.disabled).toBe(false)
    const back = await login(s, u)
    expect(back.status).toBe(200)
    expect((await s.request('GET', '/v1/me', { token: back.body.access_token })).status).toBe(200)
  })

  test('roles and disabled together; an empty body, an unknown field or a bad value answer 422; 404 for an unknown user', async () => {
    const u = await s.register()
    const res = await patch(s, admin.token, u.id, { roles: ['customer', 'admin'], disabled: true })
    expect(res.body).toMatchObject({ roles: ['customer', 'admin'], disabled: true })
    for (const body of [{}, { disabled: 'yes' }, { banned: true }]) expect((await patch(s, admin.token, u.id, body)).status).toBe(422)
    expect((await patch(s, admin.token, 'nope', { disabled: true })).status).toBe(404)
    expect((await patch(s, u.token, u.id, { disabled: false })).status).toBe(401)
  })
})

describe('the last admin', () => {
  test('can neither lose admin, be disabled, nor erase itself (409 conflict); once there is another admin it can', async () => {
    const lonely = await startShop()
    try {
      const only = await lonely.register('Only Admin')
      await lonely.database.write((tx) => tx.run(`UPDATE users SET roles = '["admin","customer"]' WHERE id = '${only.id}'`))
      for (const body of [{ roles: ['customer'] }, { disabled: true }, { roles: ['admin'], disabled: true }]) {
        const res = await patch(lonely, only.token, only.id, body)
        expect(res.status).toBe(409)
        expect(res.body.code).toBe('conflict')
      }
      const erase = await lonely.request('DELETE', '/v1/me', { token: only.token, body: { password: only.password } })
      expect(erase.status).toBe(409)
      expect(erase.body.code).toBe('conflict')
      expect((await login(lonely, only)).status).toBe(200)

      // A disabled admin does not count: it could not manage the shop.
      const second = await lonely.admin()
      expect((await patch(lonely, only.token, second.id, { disabled: true })).status).toBe(200)
      expect((await patch(lonely, only.token, only.id, { disabled: true })).status).toBe(409)
      expect((await patch(lonely, only.token, second.id, { disabled: false })).status).toBe(200)
      expect((await lonely.request('DELETE', '/v1/me', { token: only.token, body: { password: only.password } })).status).toBe(204)
    } finally {
      await lonely.close()
    }
  })

  test('two admins disabling each other at once: one succeeds, the other gets 409', async () => {
    const pair = await startShop()
    try {
      const [a, b] = [await pair.admin(), await pair.admin()]
      const answers = await Promise.all([patch(pair, a.token, b.id, { disabled: true }), patch(pair, b.token, a.id, { disabled: true })])
      expect(answers.map((r) => r.status).sort()).toEqual([200, expect.any(Number)])
      const admins = (await pair.request('GET', '/v1/users?role=admin', { token: answers[0]!.status === 200 ? a.token : b.token })).body.data
      expect(admins.filter((u: { disabled: boolean }) => !u.disabled)).toHaveLength(1)
    } finally {
      await pair.close()
    }
  })
})

describe('on every instance', () => {
  let redis: Awaited<ReturnType<typeof testRedis>>
  const started: TestShop[] = []
  afterAll(async () => {
    for (const shop of started.reverse()) await shop.close()
    await redis?.cleanup()
  })

  test("another running instance refuses a disabled account's token at once, and accepts it again once enabled; a restarted one remembers", async () => {
    redis = await testRedis()
    const a = await startShop({ redis })
    started.push(a)
    const shared = { databaseUrl: a.config.DATABASE_URL, env: { JWT_SECRET: a.config.JWT_SECRET, DATA_KEY: a.config.DATA_KEY } }
    const b = await startShop({ redis, ...shared })
    started.push(b)
    const boss = await a.admin()
    const u = await a.register()
    expect((await b.request('GET', '/v1/cart', { token: u.token })).status).toBe(200)
    await patch(a, boss.token, u.id, { disabled: true })
    await eventually(async () => expect((await b.request('GET', '/v1/cart', { token: u.token })).status).toBe(401))
    const restarted = await startShop(shared)
    started.push(restarted)
    expect((await restarted.request('GET', '/v1/cart', { token: u.token })).status).toBe(401)
    await patch(a, boss.token, u.id, { disabled: false })
    await eventually(async () => expect((await b.request('GET', '/v1/cart', { token: u.token })).status).toBe(200))
  })
})
