import { Elysia, t } from 'elysia'
import { dirname, join } from 'node:path'
import { notFound } from '../lib/errors'
import { openapiDocument, type DocumentOptions } from './openapi'

/** The UI's files, from the `swagger-ui-dist` package: the page needs nothing from the internet. */
const UI_DIR = dirname(require.resolve('swagger-ui-dist/package.json'))
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
}

/**
 * Everything the page runs is a file of this server, so its policy allows `'self'` and
 * nothing else: no inline script or style, no other origin (Swagger's own images are data: URIs).
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ')

const page = (path: string, title: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" type="image/png" href="${path}/assets/favicon-32x32.png">
<link rel="stylesheet" href="${path}/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${path}/assets/swagger-ui-bundle.js"></script>
<script src="${path}/assets/start.js"></script>
</body>
</html>
`

// Absolute URLs, so `/swagger/` loads the same document as `/swagger`. The authorization
// (Authorize → the OAuth2 password flow) is kept in the browser's storage across reloads.
const start = (path: string) => `window.ui = SwaggerUIBundle({
  url: '${path}/json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  persistAuthorization: true,
  displayRequestDuration: true,
  tryItOutEnabled: true,
  validatorUrl: null,
})
`

export interface DocsOptions extends Omit<DocumentOptions, 'info'> {
  /** Where the UI is served; the document is at `path/json`. */
  path: string
  info: DocumentOptions['info']
}

const Index = t.Object({ name: t.String(), docs: t.String(), openapi: t.String() })

/**
 * Swagger UI at `path` (and `path/`), its files at `path/assets/…`, the OpenAPI document at
 * `path/json`, and `GET /` pointing to them. The page gets a policy of its own: every other
 * answer's CSP lets nothing run.
 */
export function docs({ path, ...document }: DocsOptions) {
  const html = page(path, document.info.title)
  const script = start(path)
  let built: unknown
  const plugin: Elysia = new Elysia({ name: 'docs' })
  return plugin
    .get('/', () => ({ name: document.info.title, docs: path, openapi: `${path}/json` }), {
      response: { 200: Index },
      detail: { tags: ['ops'], summary: 'Where the API describes itself', description: 'Links to the Swagger UI (`docs`) and the OpenAPI 3.1 document (`openapi`).' },
    })
    .get(
      path,
      ({ set }) => {
        set.headers['content-type'] = 'text/html; charset=utf-8'
        set.headers['content-security-policy'] = DOCS_CSP
        return html
      },
      { detail: { hide: true } },
    )
    .get(
      `${path}/assets/:file`,
      ({ params, set }) => {
        const type = params.file === 'start.js' ? 'text/javascript; charset=utf-8' : ASSETS[params.file]
        if (!type) throw notFound('File')
        set.headers['content-type'] = type
        set.headers['cache-control'] = 'public, max-age=3600'
        return params.file === 'start.js' ? script : Bun.file(join(UI_DIR, params.file))
      },
      { detail: { hide: true } },
    )
    .get(
      `${path}/json`,
      // Built on the first request, once every route is there.
      () => (built ??= openapiDocument(plugin, document)),
      { detail: { hide: true } },
    )
}
