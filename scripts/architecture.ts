// The README's module map and route table, generated from the code so they cannot drift:
// arrows from the imports (scripts/imports.ts), routes from the running app, each handler's
// service call from its source, and each module's tables from its schema.ts.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { getTableName, is } from 'drizzle-orm'
import { SQLiteTable } from 'drizzle-orm/sqlite-core'
import { filesUnder, importsOfSrc, moduleEdges, ROOT } from './imports'

const MODULES_DIR = 'src/modules'
const modules = () => [...new Set(filesUnder(MODULES_DIR).map((f) => f.split('/')[2]!))].sort()

/** A Mermaid graph of the modules and the arrows between them (who may call whom). */
export function moduleMap(): string {
  const edges = moduleEdges(importsOfSrc())
  const lines = modules().flatMap((m) => [...(edges.get(m) ?? [])].sort().map((to) => `  ${m.replace('-', '_')}[${m}] --> ${to.replace('-', '_')}[${to}]`))
  return ['```mermaid', 'graph LR', ...lines, '```'].join('\n')
}

/** The tables a module's schema.ts declares. */
async function tablesOf(module: string): Promise<string[]> {
  const file = join(ROOT, MODULES_DIR, module, 'schema.ts')
  try {
    readFileSync(file)
  } catch {
    return []
  }
  const schema = (await import(file)) as Record<string, unknown>
  return Object.values(schema)
    .filter((value) => is(value, SQLiteTable))
    .map((table) => getTableName(table as SQLiteTable))
    .sort()
}

/**
 * The service variables each module's routes.ts takes (`(cart: CartService, …)` or
 * `({ sessions, profiles }: AccountsService, …)`), so a handler's call names its module.
 */
function serviceNames(): Map<string, string> {
  const owner = new Map<string, string>()
  for (const module of modules()) {
    let source: string
    try {
      source = readFileSync(join(ROOT, MODULES_DIR, module, 'routes.ts'), 'utf8')
    } catch {
      continue
    }
    const params = /export const \w+ = \(([^)]*)\)\s*=>/.exec(source)?.[1] ?? ''
    const destructured = /^\{([^}]*)\}/.exec(params.trim())?.[1]
    const names = destructured ? destructured.split(',').map((n) => n.trim()) : params.split(',').map((p) => p.split(':')[0]!.trim())
    for (const name of names.filter(Boolean)) owner.set(name, module)
  }
  return owner
}

interface RouteLike {
  method: string
  path: string
  handler: unknown
}

/** One row a route: method and path, the module whose routes.ts serves it, the service call, that module's tables and the faces it reads through. */
export async function routeTable(routes: RouteLike[]): Promise<string> {
  const owner = serviceNames()
  const edges = moduleEdges(importsOfSrc())
  const tables = new Map(await Promise.all(modules().map(async (m) => [m, await tablesOf(m)] as const)))
  const rows = routes
    .filter((r) => r.path.startsWith('/v1/'))
    .map((r) => {
      const source = String(r.handler)
      const call = [...source.matchAll(/\b(\w+)\.(\w+)\(/g)].find(([, name]) => owner.has(name!))
      const module = call ? owner.get(call[1]!)! : ''
      const faces = [...(edges.get(module) ?? [])].sort().join(', ')
      return `| ${r.method} | \`${r.path}\` | ${module}/routes.ts | ${call ? `\`${call[1]}.${call[2]}\`` : ''} | ${(tables.get(module) ?? []).join(', ')} | ${faces} |`
    })
  return ['| method | path | handler | service call | own tables | reads through faces of |', '|---|---|---|---|---|---|', ...rows].join('\n')
}
