import { Elysia } from 'elysia'
import type { AccountsService } from './service'
import {
  AdminUser, AuthResult, DeleteMeBody, PasswordInvalid, PatchUserBody, PhotoBytes, LoginBody, PasswordBody, PatchMeBody, PhotoBody, PhotoParams, PhotoResult, Problem,
  Profile, RefreshBody, RegisterBody, StreamTicket, UserPage, UserParams, UsersQuery,
} from './model'
import type { AuthPlugin } from '../../plugins/auth'
import { rateLimitClasses } from '../../plugins/rate-limit'
import { NoContent, Unavailable } from '../../lib/models'
import { storedImageResponse } from '../../lib/images'

const errors = { 401: Problem, 403: Problem, 404: Problem, 409: Problem, 413: Problem, 415: Problem, 422: Problem, 429: Problem, 503: Unavailable }

export const accountsRoutes = ({ sessions, profiles, users }: AccountsService, auth: AuthPlugin) =>
  new Elysia({ name: 'accounts-routes' })
    .use(auth)
    .use(rateLimitClasses)
    .group('/v1/auth', { detail: { tags: ['auth'] } }, (app) =>
      app
        .post('/register', async ({ body, status }) => status(201, await sessions.register(body)), {
          rateLimit: 'registration',
          body: RegisterBody,
          // 503: the rate limiter cannot be asked (Redis down) and sign-up fails closed.
          response: { 201: AuthResult, 409: Problem, 415: Problem, 422: PasswordInvalid, 429: Problem, 503: Problem },
          detail: { summary: 'Create a customer account' },
        })
        .post('/login', ({ body }) => sessions.login(body), {
          rateLimit: 'credentials',
          body: LoginBody,
          response: { 200: AuthResult, 401: Problem, 403: Problem, 422: Problem, 429: Problem, 503: Problem },
          detail: { summary: 'Sign in', description: '401 `invalid_credentials` alike for an unknown email and a wrong password; 403 `account_disabled` for the right password of an account an admin disabled.' },
        })
        .post('/refresh', ({ body }) => sessions.refresh(body.refresh_token), {
          body: RefreshBody,
          response: { 200: AuthResult, 401: Problem, 422: Problem },
          detail: { summary: 'Rotate the refresh token for a new pair' },
        })
        .post('/logout', async ({ body, user, status }) => status(204, await sessions.logout(user.id, body.refresh_token)), {
          auth: 'user',
          body: RefreshBody,
          response: { 204: NoContent, 401: Problem, 422: Problem },
          detail: { summary: 'End the session of a refresh token' },
        })
        .post('/stream-ticket', async ({ user, status }) => status(201, await sessions.streamTicket(user)), {
          auth: 'user',
          response: { 201: StreamTicket, 401: Problem, 429: Problem },
          detail: {
            summary: 'Get a ticket for event streams (EventSource)',
            description:
              "A browser's EventSource cannot send an Authorization header: open `…/events?ticket=<ticket>` instead. The ticket opens the caller's own streams only, for `expires_in` seconds (300), reconnects included, and no other route accepts it. When a stream answers 401, get a new ticket and open it again.",
          },
        }),
    )
    .group('/v1/me', { detail: { tags: ['me'] } }, (app) =>
      app
        .get('', ({ user }) => profiles.me(user.id), { auth: 'user', response: { 200: Profile, ...errors }, detail: { summary: 'My profile' } })
        .patch('', ({ user, body }) => profiles.updateMe(user.id, body), {
          auth: 'user',
          body: PatchMeBody,
          response: { 200: Profile, ...errors },
          detail: { summary: 'Change my name or address' },
        })
        .delete('', async ({ user, body, status }) => status(204, await profiles.deleteMe(user.id, body.password)), {
          auth: 'user',
          body: DeleteMeBody,
          response: { 204: NoContent, ...errors },
          detail: { summary: 'Erase my account (orders are kept without personal data)' },
        })
        .put('/password', async ({ user, body, status }) => status(204, await sessions.changePassword(user.id, user.sid, body.current_password, body.new_password)), {
          auth: 'user',
          body: PasswordBody,
          response: { 204: NoContent, ...errors, 422: PasswordInvalid },
          detail: { summary: 'Change my password; other sessions end' },
        })
        .put('/photo', ({ user, body }) => profiles.setPhoto(user.id, body.photo), {
          auth: 'user',
          body: PhotoBody,
          response: { 200: PhotoResult, ...errors },
          detail: { summary: 'Upload my photo (JPEG, PNG or WebP, at most 5 MB)' },
        })
        .delete('/photo', async ({ user, status }) => status(204, await profiles.deletePhoto(user.id)), {
          auth: 'user',
          response: { 204: NoContent, ...errors },
          detail: { summary: 'Remove my photo' },
        }),
    )
    .get('/v1/photos/:key', async ({ params }) => storedImageResponse(await profiles.photo(params.key)), {
      params: PhotoParams,
      response: { 200: PhotoBytes, 404: Problem, 422: Problem },
      detail: { tags: ['me'], summary: 'A profile photo (WebP)' },
    })
    .group('/v1/users', { detail: { tags: ['users'] } }, (app) =>
      app
        .get('', ({ query }) => users.listUsers(query), {
          auth: 'admin',
          query: UsersQuery,
          response: { 200: UserPage, ...errors },
          detail: {
            summary: 'List and search users',
            description: 'Live accounts, oldest first. `q`: part of the name or email, case-insensitive; `role`: holders of that role. A query parameter this list does not know answers 422.',
          },
        })
        .patch('/:id', ({ params, body }) => users.update(params.id, body), {
          auth: 'admin',
          params: UserParams,
          body: PatchUserBody,
          response: { 200: AdminUser, ...errors },
          detail: {
            summary: "Set a user's roles, or disable or enable the account",
            description:
              "`disabled: true` ends the account's sessions and refuses its access tokens at once on every instance; its login answers 403 `account_disabled`. The last enabled admin can neither lose `admin` nor be disabled (409 `conflict`).",
          },
        }),
    )
