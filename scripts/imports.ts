// The relative imports of src/, read from the source itself (TypeScript's scanner skips
// comments and strings): what test/architecture.test.ts checks and the README's module map shows.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import ts from 'typescript'

export const ROOT = join(import.meta.dir, '..')

export interface Import {
  /** The importing file, e.g. `src/modules/cart/service.ts`. */
  from: string
  /** The imported file, resolved, e.g. `src/modules/catalog/index.ts`. */
  to: string
}

/** The feature module a file belongs to (`src/modules/<module>/…`), or undefined. */
export const moduleOf = (file: string) => /^src\/modules\/([^/]+)\//.exec(file)?.[1]

export function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = `${dir}/${name}`
    return statSync(join(ROOT, path)).isDirectory() ? filesUnder(path) : /\.tsx?$/.test(name) ? [path] : []
  })
}

/** The file a relative specifier names, as the bundler resolves it (`.ts`, the file itself, or a folder's index.ts). */
function resolve(from: string, specifier: string): string {
  const base = join(dirname(from), specifier)
  const found = [`${base}.ts`, base, `${base}/index.ts`].find((path) => existsSync(join(ROOT, path)) && statSync(join(ROOT, path)).isFile())
  if (!found) throw new Error(`${from}: cannot resolve ${specifier}`)
  return relative(ROOT, join(ROOT, found))
}

/** Every relative import of a file, type-only ones included. */
export function importsOf(file: string, source = readFileSync(join(ROOT, file), 'utf8')): Import[] {
  return ts
    .preProcessFile(source, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => ({ from: file, to: resolve(file, specifier) }))
}

export const importsOfSrc = () => filesUnder('src').flatMap((file) => importsOf(file))

/** Which modules each module imports (through faces, or schema to schema for foreign keys). */
export function moduleEdges(imports: Import[]) {
  const edges = new Map<string, Set<string>>()
  for (const { from, to } of imports) {
    const [a, b] = [moduleOf(from), moduleOf(to)]
    if (a && b && a !== b) edges.set(a, (edges.get(a) ?? new Set()).add(b))
  }
  return edges
}
