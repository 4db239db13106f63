// Regenerates the README's generated blocks from the code, so they stay true: the endpoint
// table (from the OpenAPI document), the module map and the route table (scripts/architecture.ts).
// `bun run docs:endpoints` writes them; `--check` exits 1 when README.md is out of date.
import { readFileSync, writeFileSync } from 'node:fs'
import { startShop } from '../test/support/harness'
import { moduleMap, routeTable } from './architecture'

type Doc = { paths: Record<string, Record<string, { summary?: string; tags?: string[]; security?: unknown[] }>> }

function endpointTable(doc: Doc): string {
  const rows = Object.entries(doc.paths)
    .flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ path, method: method.toUpperCase(), tag: op.tags?.[0] ?? '', summary: op.summary ?? '', auth: op.security?.length ? 'bearer' : '' })),
    )
    .filter((r) => !r.path.startsWith('/swagger'))
    .sort((a, b) => a.tag.localeCompare(b.tag) || a.path.localeCompare(b.path) || a.method.localeCompare(b.method))
  return ['| tag | method | path | auth | summary |', '|---|---|---|---|---|', ...rows.map((r) => `| ${r.tag} | ${r.method} | \`${r.path}\` | ${r.auth} | ${r.summary} |`)].join('\n')
}

/** Each generated block of the README by its marker name (`<!-- name:start -->` … `<!-- name:end -->`). */
export async function readmeBlocks(): Promise<Record<string, string>> {
  const shop = await startShop()
  try {
    const doc = (await shop.request('GET', '/swagger/json')).body as Doc
    return { endpoints: endpointTable(doc), modules: moduleMap(), routes: await routeTable(shop.shop.app.routes) }
  } finally {
    await shop.close()
  }
}

export function withBlocks(readme: string, blocks: Record<string, string>) {
  return Object.entries(blocks).reduce((text, [name, content]) => {
    const [START, END] = [`<!-- ${name}:start -->`, `<!-- ${name}:end -->`]
    const start = text.indexOf(START)
    const end = text.indexOf(END)
    if (start < 0 || end < 0) throw new Error(`README.md needs ${START} and ${END} markers`)
    return `${text.slice(0, start + START.length)}\n${content}\n${text.slice(end)}`
  }, readme)
}

if (import.meta.main) {
  const readme = readFileSync('README.md', 'utf8')
  const next = withBlocks(readme, await readmeBlocks())
  if (process.argv.includes('--check')) {
    if (next !== readme) {
      console.error('README.md generated blocks are out of date: run `bun run docs:endpoints`')
      process.exit(1)
    }
  } else writeFileSync('README.md', next)
}
