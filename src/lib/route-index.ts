import { Memoirist } from 'memoirist'

export interface RouteLike {
  method: string
  path: string
  /** The route's options as declared (`rateLimit`, `auth`, …). */
  hooks?: object
}

/** Which route a path names, asked before (or instead of) the framework's own routing. */
export interface RouteIndex {
  /** The route `path` matches for `method` (HEAD as GET), or undefined. */
  routeOf(method: string, path: string): RouteLike | undefined
  /** Its template. */
  templateOf(method: string, path: string): string | undefined
  /** Every method some route answers at `path` (HEAD wherever GET is); empty for an unknown path. */
  methodsAt(path: string): string[]
}

/** The path of a request URL, query left off, as the router reads it (before routing, hooks get only the request). */
export function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2)
  if (start === -1) return '/'
  const query = url.indexOf('?', start)
  return url.slice(start, query === -1 ? undefined : query)
}

// Like the framework (strictPath off), `/v1/regions/` names `/v1/regions`.
const loose = (path: string) => (path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path)

/**
 * A radix tree of the app's route templates (the router Elysia itself uses), built once on
 * first use, since the routes are registered after the plugins that ask. A lookup costs the
 * length of the path, whatever the number of routes.
 */
export function routeIndex(routes: () => readonly RouteLike[]): RouteIndex {
  let built: { tree: Memoirist<RouteLike>; methods: string[] } | undefined
  const index = () => {
    if (built) return built
    const tree = new Memoirist<RouteLike>()
    for (const route of routes()) tree.add(route.method, route.path, route, { ignoreError: true })
    built = { tree, methods: [...new Set(routes().map((r) => r.method))] }
    return built
  }
  const routeOf = (method: string, path: string) => index().tree.find(method === 'HEAD' ? 'GET' : method, loose(path))?.store
  const templateOf = (method: string, path: string) => routeOf(method, path)?.path
  return {
    routeOf,
    templateOf,
    methodsAt(path) {
      const found = index().methods.filter((method) => templateOf(method, path) !== undefined)
      return (found.includes('GET') ? [...found, 'HEAD'] : found).sort()
    },
  }
}
