/** What the OpenAPI document says about the API as a whole: Swagger's header, its sections in order, and how to sign in. */
export const apiDescription = {
  info: {
    title: 'Shop API',
    version: '1.1.0',
    description: [
      'Bun-native e-commerce API: accounts, a catalog per region, an inventory ledger, cart and checkout, payments, hourly flash sales.',
      '',
      'Sign in with **Authorize** (the OAuth2 password flow: an email and password; leave client_id and client_secret empty). The access token lasts 15 minutes: when it expires, operations answer 401 and you Authorize again (the UI keeps the authorization across reloads until then).',
      '',
      'Errors are RFC 9457 `application/problem+json` with a stable `code`; 422 `validation_failed` lists each wrong field in `errors`.',
    ].join('\n'),
  },
  tags: [
    { name: 'auth', description: 'Sign up, sign in, tokens' },
    { name: 'me', description: 'My profile, address and photo' },
    { name: 'users', description: 'Admins: users and their roles' },
    { name: 'regions', description: 'Regions: country, currency and tax' },
    { name: 'catalog', description: 'Products and categories' },
    { name: 'inventory', description: 'Admins: stock, its ledger and purchases' },
    { name: 'cart', description: 'My cart' },
    { name: 'orders', description: 'Checkout and orders, with live status' },
    { name: 'payments', description: 'Paying orders; the gateway webhook' },
    { name: 'flash-sales', description: 'Hourly flash-sale drops: entries, results, audits' },
    { name: 'ops', description: 'Health, readiness, metrics, this documentation' },
  ],
  securitySchemes: {
    password: {
      type: 'oauth2',
      description: 'Sign in with an email and password (RFC 6749 password grant at /v1/auth/token)',
      flows: { password: { tokenUrl: '/v1/auth/token', refreshUrl: '/v1/auth/token', scopes: {} } },
    },
    bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from /v1/auth/login, /v1/auth/register, /v1/auth/refresh or /v1/auth/token' },
    // EventSource cannot send headers: event streams also take a ticket in the URL.
    streamTicket: { type: 'apiKey', in: 'query', name: 'ticket', description: 'From POST /v1/auth/stream-ticket; accepted by `…/events` routes only' },
  },
}
