import { t } from 'elysia'
import { Id, ImageBytes, Int, Page, PageQuery, Problem, ProblemOf, query, strictObject, Timestamp } from '../../lib/models'
import { Text } from '../../lib/text'

const RoleName = t.Union([t.Literal('customer'), t.Literal('admin')])
const Email = t.String({ format: 'email', maxLength: 254 })
// Length in code points, common passwords and the email are the policy's (422 weak_password).
const Password = t.String({ minLength: 1, maxLength: 128, description: 'At least 8 characters; not only spaces, not the email or its local part, not one of the 10,000 most common passwords' })
const Name = Text({ blank: false, minLength: 1, maxLength: 100 })
const ADDRESS_EXAMPLE = { line1: 'Rua Augusta 1500', line2: 'apto 42', city: 'São Paulo', state: 'SP', postal_code: '01304-001', country: 'BR' }

export const Address = strictObject(
  {
    line1: Text({ blank: false, minLength: 1, maxLength: 200 }),
    line2: t.Optional(Text({ maxLength: 200 })),
    city: Text({ blank: false, minLength: 1, maxLength: 100 }),
    state: t.Optional(Text({ maxLength: 100 })),
    postal_code: Text({ blank: false, minLength: 1, maxLength: 20 }),
    country: t.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2' }),
  },
  { examples: [ADDRESS_EXAMPLE] },
)

export const Profile = t.Object({
  id: t.String(),
  email: t.Union([t.String(), t.Null()]),
  name: t.String(),
  roles: t.Array(RoleName),
  address: t.Union([Address, t.Null()]),
  photo_url: t.Union([t.String(), t.Null()]),
  created_at: Timestamp,
})

export const AuthResult = t.Object({
  user: Profile,
  access_token: t.String(),
  refresh_token: t.String(),
  token_type: t.Literal('Bearer'),
  expires_in: Int(),
})

export const StreamTicket = t.Object(
  {
    ticket: t.String({ description: 'Append as `?ticket=` to an `…/events` URL; good for no other route' }),
    expires_in: Int({ description: 'Seconds the ticket stays valid (reconnects within that time work); 300' }),
  },
  { description: 'A short-lived credential for EventSource, which cannot send an Authorization header' },
)

export const RegisterBody = strictObject({ email: Email, name: Name, password: Password }, { examples: [{ email: 'ada@example.com', name: 'Ada Lovelace', password: 'correct horse battery' }] })
export const LoginBody = strictObject(
  { email: t.String({ minLength: 1, maxLength: 254 }), password: t.String({ minLength: 1, maxLength: 128 }) },
  { examples: [{ email: 'admin@shop.test', password: 'admin password' }] },
)
export const RefreshBody = strictObject({ refresh_token: t.String({ minLength: 1, maxLength: 512 }) }, { examples: [{ refresh_token: 'kQ3v9xZ0c2Jb7mW1yT8nR4sP6hL5aE0dFgHjK2uV9wY' }] })
export const PatchMeBody = strictObject({ name: t.Optional(Name), address: t.Optional(Address) }, { examples: [{ name: 'Ada Lovelace', address: ADDRESS_EXAMPLE }] })
export const PasswordBody = strictObject(
  { current_password: t.String({ minLength: 1, maxLength: 128 }), new_password: Password },
  { examples: [{ current_password: 'correct horse battery', new_password: 'staple battery horse' }] },
)
export const DeleteMeBody = strictObject({ password: t.String({ minLength: 1, maxLength: 128 }) }, { examples: [{ password: 'correct horse battery' }] })
export const PasswordInvalid = ProblemOf('`validation_failed`; `weak_password`: under 8 characters, only spaces, the email or its local part, or one of the 10,000 most common passwords')
export const PhotoBody = t.Object({ photo: t.File({ description: 'JPEG, PNG or WebP, at most 5 MB; stored re-encoded as WebP' }) })
/** RFC 6749 token request, form-encoded; `scope`, `client_id` and `client_secret` are accepted and ignored (Swagger sends them). */
export const TokenBody = t.Object(
  {
    grant_type: t.String({ maxLength: 40, description: '`password` or `refresh_token`' }),
    username: t.Optional(t.String({ maxLength: 254, description: 'The email (password grant)' })),
    password: t.Optional(t.String({ maxLength: 128 })),
    refresh_token: t.Optional(t.String({ maxLength: 512, description: 'refresh_token grant' })),
    scope: t.Optional(t.String({ maxLength: 200 })),
    client_id: t.Optional(t.String({ maxLength: 200 })),
    client_secret: t.Optional(t.String({ maxLength: 200 })),
  },
  { additionalProperties: false, examples: [{ grant_type: 'password', username: 'admin@shop.test', password: 'admin password' }] },
)
export const TokenResult = t.Object({ access_token: t.String(), token_type: t.Literal('Bearer'), expires_in: Int(), refresh_token: t.String() })
export const PhotoResult = t.Object({ photo_url: t.String() })
export const PhotoBytes = ImageBytes('image/webp', 'The photo, re-encoded as WebP')
export const PhotoParams = t.Object({ key: t.String({ pattern: '^[0-9a-f-]{36}\\.webp$' }) })

export const AdminUser = t.Composite([Profile, t.Object({ disabled: t.Boolean({ description: 'Cannot sign in; its tokens are refused' }) })])

export const UsersQuery = query({
  ...PageQuery,
  q: t.Optional(Text({ blank: false, maxLength: 100, description: 'Part of the name or email, case-insensitive' })),
  role: t.Optional(t.UnionEnum(['customer', 'admin'], { default: undefined, description: 'Only users holding this role' })),
})
export const UserPage = Page(AdminUser)
export const PatchUserBody = strictObject(
  {
    roles: t.Optional(t.Array(RoleName, { minItems: 1, maxItems: 2, uniqueItems: true })),
    disabled: t.Optional(t.Boolean({ description: 'true: the account cannot sign in and its tokens are refused at once, on every instance (its sessions end); false: it can sign in again' })),
  },
  { minProperties: 1, examples: [{ roles: ['admin', 'customer'] }, { disabled: true }] },
)
export const UserParams = t.Object({ id: Id })

export { Problem }
export type AddressInput = typeof Address.static
export type ProfileDto = typeof Profile.static
export type AdminUserDto = typeof AdminUser.static
export type UsersQueryInput = typeof UsersQuery.static
export type PatchUserInput = typeof PatchUserBody.static
