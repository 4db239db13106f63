// Regenerates the endpoint table in README.md from the OpenAPI document, so it stays true.
// `bun run docs:endpoints` writes it; `--check` exits 1 when README.md is out of date.
import { readFileSync, writeFileSync } from 'node:fs'
import { startShop } from '../test/support/harness'

const START = '<!-- endpoints:start -->'
const END = '<!-- endpoints:end -->'

export async function endpointTable(): Promise<string> {
  const shop = await startShop()
  try {
    const doc = (await shop.request('GET', '/swagger/json')).body as {
      paths: Record<string, Record<string, { summary?: string; tags?: string[]; security?: unknown[] }>>
    }
    const rows = Object.entries(doc.paths)
      .flatMap(([path, ops]) =>
        Object.entries(ops).map(([method, op]) => ({ path, method: method.toUpperCase(), tag: op.tags?.[0] ?? '', summary: op.summary ?? '', auth: op.security?.length ? 'bearer' : '' })),
      )
      .filter((r) => !r.path.startsWith('/swagger'))
      .sort((a, b) => a.tag.localeCompare(b.tag) || a.path.localeCompare(b.path) || a.method.localeCompare(b.method))
    return ['| tag | method | path | auth | summary |', '|---|---|---|---|---|', ...rows.map((r) => `| ${r.tag} | ${r.method} | \`${r.path}\` | ${r.auth} | ${r.summary} |`)].join('\n')
  } finally {
    await shop.close()
  }
}

export function withTable(readme: string, table: string) {
  const start = readme.indexOf(START)
  const end = readme.indexOf(END)
  if (start < 0 || end < 0) throw new Error(`README.md needs ${START} and ${END} markers`)
  return readme.slice(0, start + START.length) + '\n' + table + '\n' + readme.slice(end)
}

if (import.meta.main) {
  const readme = readFileSync('README.md', 'utf8')
  const next = withTable(readme, await endpointTable())
  if (process.argv.includes('--check')) {
    if (next !== readme) {
      console.error('README.md endpoint table is out of date: run `bun run docs:endpoints`')
      process.exit(1)
    }
  } else writeFileSync('README.md', next)
}
