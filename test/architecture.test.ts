/**
 * The walls between the parts of src/, read from the imports themselves: every `import`,
 * `import type`, `export … from` and `import()` of every file. A rule is a function of one
 * import (importing file and imported file, both relative to the repository) that returns
 * why the import is not allowed, or nothing; add a rule to `RULES` to put up another wall.
 */
import { describe, expect, test } from 'bun:test'
import { importsOf, importsOfSrc, moduleEdges, moduleOf, type Import } from '../scripts/imports'

interface Rule {
  name: string
  /** Why `i` breaks the rule, or undefined when it does not. */
  check(i: Import): string | undefined
}

const faceOf = (module: string) => `src/modules/${module}/index.ts`
const schemaOf = (module: string) => `src/modules/${module}/schema.ts`

const RULES: Rule[] = [
  {
    name: "a module imports another module only through its face (index.ts); a module's schema.ts may import another's schema.ts for foreign keys",
    check({ from, to }) {
      const [a, b] = [moduleOf(from), moduleOf(to)]
      if (!a || !b || a === b || to === faceOf(b)) return
      if (from === schemaOf(a) && to === schemaOf(b)) return
      return `${from} imports ${to}: use ${faceOf(b)}`
    },
  },
  {
    name: 'src/lib and src/infra are below every module: they import no module, plugin or wiring',
    check({ from, to }) {
      if (!/^src\/(lib|infra)\//.test(from)) return
      if (/^src\/(modules|plugins)\//.test(to) || to === 'src/app.ts' || to === 'src/deps.ts') return `${from} imports ${to}`
    },
  },
  {
    name: 'services import no plugin: inside a module only routes.ts speaks HTTP',
    check({ from, to }) {
      if (moduleOf(from) && to.startsWith('src/plugins/') && !from.endsWith('/routes.ts')) return `${from} imports ${to}: pass what it needs from the route`
    },
  },
  {
    name: 'plugins are cross-cutting: they import no feature module',
    check({ from, to }) {
      if (from.startsWith('src/plugins/') && moduleOf(to)) return `${from} imports ${to}`
    },
  },
]

const imports = importsOfSrc()
const broken = (rules: Rule[], list: Import[]) => list.flatMap((i) => rules.flatMap((rule) => rule.check(i) ?? []))

describe('architecture', () => {
  test('the import reader sees every kind of import, and all of src', () => {
    const source = "import type { A } from './model'\nimport {\n  B,\n} from '../cart'\nexport { C } from './ledger'\nexport * from './reads'\n// import { D } from './service'\n"
    expect(importsOf('src/modules/catalog/index.ts', source).map((i) => i.to)).toEqual([
      'src/modules/catalog/model.ts',
      'src/modules/cart/index.ts',
      'src/modules/catalog/ledger.ts',
      'src/modules/catalog/reads.ts',
    ])
    // Known imports of the real tree: a face, a type-only import and a re-export.
    expect(imports).toContainEqual({ from: 'src/app.ts', to: 'src/modules/catalog/index.ts' })
    expect(imports).toContainEqual({ from: 'src/app.ts', to: 'src/deps.ts' })
    expect(imports).toContainEqual({ from: 'src/modules/catalog/index.ts', to: 'src/modules/catalog/ledger.ts' })
    expect(imports.length).toBeGreaterThan(300)
  })

  test('the rules catch what they forbid and let the rest through', () => {
    const [faces] = RULES
    expect(faces!.check({ from: 'src/modules/cart/service.ts', to: 'src/modules/catalog/schema.ts' })).toContain('use src/modules/catalog/index.ts')
    expect(faces!.check({ from: 'src/modules/catalog/types/book.ts', to: 'src/modules/regions/service.ts' })).toBeDefined()
    expect(faces!.check({ from: 'src/modules/cart/reads.ts', to: 'src/modules/catalog/schema.ts' })).toBeDefined()
    expect(faces!.check({ from: 'src/modules/cart/schema.ts', to: 'src/modules/catalog/schema.ts' })).toBeUndefined()
    expect(faces!.check({ from: 'src/modules/cart/service.ts', to: 'src/modules/catalog/index.ts' })).toBeUndefined()
    expect(faces!.check({ from: 'src/modules/cart/service.ts', to: 'src/modules/cart/schema.ts' })).toBeUndefined()
    const [, below, httpFree, crossCutting] = RULES
    expect(below!.check({ from: 'src/lib/money.ts', to: 'src/modules/orders/index.ts' })).toBeDefined()
    expect(below!.check({ from: 'src/infra/events/redis.ts', to: 'src/plugins/auth.ts' })).toBeDefined()
    expect(below!.check({ from: 'src/lib/money.ts', to: 'src/lib/errors.ts' })).toBeUndefined()
    expect(httpFree!.check({ from: 'src/modules/orders/service.ts', to: 'src/plugins/auth.ts' })).toBeDefined()
    expect(httpFree!.check({ from: 'src/modules/orders/routes.ts', to: 'src/plugins/auth.ts' })).toBeUndefined()
    expect(crossCutting!.check({ from: 'src/plugins/edge.ts', to: 'src/modules/ops/index.ts' })).toBeDefined()
  })

  test('src/ keeps every rule', () => {
    expect(broken(RULES, imports)).toEqual([])
  })

  test('no two modules depend on each other, even through others', () => {
    const edges = moduleEdges(imports)
    const cycles: string[] = []
    const visit = (module: string, path: string[]) => {
      if (path.includes(module)) return void cycles.push([...path.slice(path.indexOf(module)), module].join(' → '))
      for (const next of edges.get(module) ?? []) visit(next, [...path, module])
    }
    for (const module of edges.keys()) visit(module, [])
    expect(edges.get('inventory')).toContain('catalog')
    expect(cycles).toEqual([])
  })
})
