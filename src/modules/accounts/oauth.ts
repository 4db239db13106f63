import { AppError } from '../../lib/errors'
import type { Sessions } from './sessions'

export interface TokenRequest {
  grant_type: string
  username?: string
  password?: string
  refresh_token?: string
}

/** An RFC 6749 error: problem+json with the OAuth `error` member (and `error_description`, which Swagger shows). */
const oauthError = (status: number, error: 'invalid_grant' | 'invalid_request' | 'unsupported_grant_type', detail: string) =>
  new AppError(status, error, detail, { extra: { error, error_description: detail } })

/**
 * The OAuth 2.0 token endpoint's grants (RFC 6749 §4.3 password, §6 refresh_token) over the
 * same sign-in and rotation as /login and /refresh, so every rule of theirs applies (refusals
 * of an account included). Their refusals become OAuth errors: a wrong password or refresh
 * token is `invalid_grant` (400); any other keeps its status and names its code as `error`.
 */
export async function grantToken(sessions: Sessions, request: TokenRequest) {
  try {
    const result = await grant(sessions, request)
    return { access_token: result.access_token, token_type: result.token_type, expires_in: result.expires_in, refresh_token: result.refresh_token }
  } catch (error) {
    if (!(error instanceof AppError) || error.extra?.error) throw error
    if (error.status === 401) throw oauthError(400, 'invalid_grant', error.message)
    throw new AppError(error.status, error.code, error.message, { errors: error.errors, headers: error.headers, extra: { ...error.extra, error: error.code, error_description: error.message } })
  }
}

function grant(sessions: Sessions, { grant_type, username, password, refresh_token }: TokenRequest) {
  switch (grant_type) {
    case 'password':
      if (!username || !password) throw oauthError(400, 'invalid_request', 'The password grant needs username and password')
      return sessions.login({ email: username, password })
    case 'refresh_token':
      if (!refresh_token) throw oauthError(400, 'invalid_request', 'The refresh_token grant needs refresh_token')
      return sessions.refresh(refresh_token)
    default:
      throw oauthError(400, 'unsupported_grant_type', 'Use grant_type password or refresh_token')
  }
}
