import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { ManualClock } from '../src/lib/clock'
import { REFRESH_OVERLAP_MS } from '../src/modules/accounts/sessions'
import { startShop, type TestShop } from './support/harness'

const clock = new ManualClock(Date.now())
let s: TestShop
beforeAll(async () => {
  s = await startShop({ clock })
})
afterAll(() => s.close())

const viaRefresh = (token: string) => s.request('POST', '/v1/auth/refresh', { body: { refresh_token: token } })
const viaTokenEndpoint = (token: string) =>
  s.request('POST', '/v1/auth/token', { raw: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } })

describe('a refresh token presented again within 10 s of its rotation (two tabs refreshing at once)', () => {
  for (const [name, refresh] of [
    ['/v1/auth/refresh', viaRefresh],
    ['/v1/auth/token', viaTokenEndpoint],
  ] as const) {
    test(`${name}: 10 concurrent refreshes of one token all answer 200 with the same new refresh token, and the session lives on`, async () => {
      const u = await s.register()
      const answers = await Promise.all(Array.from({ length: 10 }, () => refresh(u.refresh_token)))
      expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200))
      const successors = new Set(answers.map((a) => a.body.refresh_token))
      expect(successors.size).toBe(1)
      const [successor] = successors
      expect(successor).not.toBe(u.refresh_token)
      for (const a of answers) expect((await s.request('GET', '/v1/me', { token: a.body.access_token })).status).toBe(200)
      // Still within the overlap, a late tab gets the same answer; the winner's token rotates on as usual.
      clock.advance(REFRESH_OVERLAP_MS - 1)
      expect((await refresh(u.refresh_token)).body.refresh_token).toBe(successor)
      const next = await refresh(successor!)
      expect(next.status).toBe(200)
      expect(next.body.refresh_token).not.toBe(successor)
    })
  }

  test('presented after the overlap, reuse still revokes the session, the newer token included (401)', async () => {
    const u = await s.register()
    const rotated = await viaRefresh(u.refresh_token)
    expect(rotated.status).toBe(200)
    clock.advance(REFRESH_OVERLAP_MS + 1)
    const reuse = await viaRefresh(u.refresh_token)
    expect(reuse.status).toBe(401)
    expect(reuse.body.code).toBe('unauthorized')
    // The thief's reuse also ended the legitimate holder's newer token.
    expect((await viaRefresh(rotated.body.refresh_token)).status).toBe(401)
  })

  test('the successor is not stored: the database holds hashes of refresh tokens only', async () => {
    const u = await s.register()
    const rotated = await viaRefresh(u.refresh_token)
    const dump = JSON.stringify(await s.database.db.all('select * from refresh_tokens'))
    for (const token of [u.refresh_token, rotated.body.refresh_token]) expect(dump).not.toContain(token)
  })
})
