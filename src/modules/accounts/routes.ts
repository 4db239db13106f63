import { Elysia } from 'elysia'
import type { AccountsService } from './service'
import { grantToken } from './oauth'
import {
  AdminUser,
  AuthResult,
  DeleteMeBody,
  PasswordInvalid,
  PatchUserBody,
  PhotoBytes,
  LoginBody,
  PasswordBody,
  PatchMeBody,
  PhotoBody,
  PhotoParams,
  PhotoResult,
  Problem,
  Profile,
  RefreshBody,
  RegisterBody,
  StreamTicket,
  TokenBody,
  TokenResult,
  UserPage,
  UserParams,
  UsersQuery,
} from './model'
import type { AuthPlugin } from '../../plugins/auth'
import { rateLimitClasses } from '../../plugins/rate-limit'
import { NoContent, ProblemOf } from '../../lib/models'
import { storedImageResponse } from '../../lib/images'

const SignInRefused = ProblemOf('`invalid_credentials`: the email or the password is wrong (the same answer for both)')
const AccountDisabled = ProblemOf('`account_disabled`: an admin disabled this account')
const LimiterDown = ProblemOf('`service_unavailable`: the rate limiter cannot be asked (Redis down), and sign-in fails closed; or the database cannot write. Retry after `Retry-After` seconds')

/** Form-encoded (RFC 6749), where every other route takes JSON: http-errors lists it in `formRoutes`. */
export const TOKEN_PATH = '/v1/auth/token'

export const accountsRoutes = ({ sessions, profiles, users }: AccountsService, auth: AuthPlugin) =>
  new Elysia({ name: 'accounts-routes' })
    .use(auth)
    .use(rateLimitClasses)
    .group('/v1/auth', { detail: { tags: ['auth'] } }, (app) =>
      app
        .post('/register', async ({ body, status }) => status(201, await sessions.register(body)), {
          rateLimit: 'registration',
          body: RegisterBody,
          response: { 201: AuthResult, 409: ProblemOf('`email_taken`: an account with this email exists'), 422: PasswordInvalid, 503: LimiterDown },
          detail: {
            summary: 'Create a customer account',
            description: 'Creates a customer and signs it in: the answer carries a 15-minute access token and a 30-day refresh token. Limited per client address and per email.',
          },
        })
        .post('/login', ({ body }) => sessions.login(body), {
          rateLimit: 'credentials',
          body: LoginBody,
          response: { 200: AuthResult, 401: SignInRefused, 403: AccountDisabled, 503: LimiterDown },
          detail: {
            summary: 'Sign in',
            description:
              'Email and password for a new session: a 15-minute access token (send it as `Authorization: Bearer …`) and a refresh token that renews it. 401 `invalid_credentials` alike for an unknown email and a wrong password; 403 `account_disabled` for the right password of an account an admin disabled. Limited per client address and per email.',
          },
        })
        .post('/token', ({ body }) => grantToken(sessions, body), {
          rateLimit: 'credentials',
          body: TokenBody,
          response: {
            200: TokenResult,
            400: ProblemOf(
              'OAuth errors, with `error` as RFC 6749 names it: `invalid_grant` (a wrong email or password, a bad refresh token), `unsupported_grant_type`, `invalid_request` (a missing field)',
            ),
            403: ProblemOf('`account_disabled` (also as `error`): an admin disabled this account'),
            503: LimiterDown,
          },
          detail: {
            summary: 'OAuth 2.0 token endpoint (password and refresh_token grants)',
            description:
              "RFC 6749, form-encoded: `grant_type=password&username=<email>&password=…` signs in as /login does; `grant_type=refresh_token&refresh_token=…` rotates as /refresh does. `scope`, `client_id` and an empty client authentication are accepted and ignored. This is what Swagger's **Authorize** calls. Limited as /login.",
          },
        })
        .post('/refresh', ({ body }) => sessions.refresh(body.refresh_token), {
          body: RefreshBody,
          response: { 200: AuthResult, 401: ProblemOf('`unauthorized`: the refresh token is unknown, expired or revoked, or was rotated more than 10 s ago (its session then ends)') },
          detail: {
            summary: 'Rotate the refresh token for a new pair',
            description:
              'Each refresh token works once: the answer carries a new pair. Presented again within 10 s (two tabs refreshing together), it answers the same new pair; later, its whole session is revoked.',
          },
        })
        .post('/logout', async ({ body, user, status }) => status(204, await sessions.logout(user.id, body.refresh_token)), {
          auth: 'user',
          body: RefreshBody,
          response: { 204: NoContent },
          detail: {
            summary: 'End the session of a refresh token',
            description: "Revokes the session the refresh token belongs to (if it is the caller's). The access token stays valid until it expires.",
          },
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
        .get('', ({ user }) => profiles.me(user.id), {
          auth: 'user',
          response: { 200: Profile, 404: Problem },
          detail: { summary: 'My profile', description: 'The signed-in account: email, name, roles, address and photo URL.' },
        })
        .patch('', ({ user, body }) => profiles.updateMe(user.id, body), {
          auth: 'user',
          body: PatchMeBody,
          response: { 200: Profile, 404: Problem },
          detail: { summary: 'Change my name or address', description: 'Fields left out stay as they are. The address (stored encrypted) is the default shipping address at checkout.' },
        })
        .delete('', async ({ user, body, status }) => status(204, await profiles.deleteMe(user.id, body.password)), {
          auth: 'user',
          body: DeleteMeBody,
          response: { 204: NoContent, 401: SignInRefused, 404: Problem, 409: ProblemOf('`conflict`: the last enabled admin cannot erase itself') },
          detail: {
            summary: 'Erase my account (orders are kept without personal data)',
            description: 'Needs the password. Personal data is erased at once and every token of the account is refused from then on; orders stay for the books, without name or address.',
          },
        })
        .put('/password', async ({ user, body, status }) => status(204, await sessions.changePassword(user.id, user.sid, body.current_password, body.new_password)), {
          auth: 'user',
          body: PasswordBody,
          response: { 204: NoContent, 401: SignInRefused, 404: Problem, 422: PasswordInvalid },
          detail: { summary: 'Change my password; other sessions end', description: 'Needs the current password. Every other session of the account is revoked; this one stays signed in.' },
        })
        .put('/photo', ({ user, body }) => profiles.setPhoto(user.id, body.photo), {
          auth: 'user',
          body: PhotoBody,
          response: { 200: PhotoResult, 404: Problem, 413: Problem, 415: ProblemOf('`unsupported_media_type`: not a JPEG, PNG or WebP image, or one wider or taller than allowed') },
          detail: {
            summary: 'Upload my photo (JPEG, PNG or WebP, at most 5 MB)',
            description: 'Multipart field `photo`. The image is decoded, stripped of metadata and re-encoded as WebP; the answer has its public URL.',
          },
        })
        .delete('/photo', async ({ user, status }) => status(204, await profiles.deletePhoto(user.id)), {
          auth: 'user',
          response: { 204: NoContent, 404: Problem },
          detail: { summary: 'Remove my photo', description: 'Deletes the stored photo; `photo_url` becomes null.' },
        }),
    )
    .get('/v1/photos/:key', async ({ params }) => storedImageResponse(await profiles.photo(params.key)), {
      params: PhotoParams,
      response: { 200: PhotoBytes, 404: Problem },
      detail: { tags: ['me'], summary: 'A profile photo (WebP)', description: 'Public and cached for a year: the key changes whenever the photo does.' },
    })
    .group('/v1/users', { detail: { tags: ['users'] } }, (app) =>
      app
        .get('', ({ query }) => users.listUsers(query), {
          auth: 'admin',
          query: UsersQuery,
          response: { 200: UserPage, 403: Problem },
          detail: {
            summary: 'List and search users',
            description: 'Live accounts, oldest first. `q`: part of the name or email, case-insensitive; `role`: holders of that role. A query parameter this list does not know answers 422.',
          },
        })
        .patch('/:id', ({ params, body }) => users.update(params.id, body), {
          auth: 'admin',
          params: UserParams,
          body: PatchUserBody,
          response: { 200: AdminUser, 403: Problem, 404: Problem, 409: ProblemOf('`conflict`: the last enabled admin can neither lose `admin` nor be disabled') },
          detail: {
            summary: "Set a user's roles, or disable or enable the account",
            description:
              "`disabled: true` ends the account's sessions and refuses its access tokens at once on every instance; its login answers 403 `account_disabled`. The last enabled admin can neither lose `admin` nor be disabled (409 `conflict`).",
          },
        }),
    )
