import { existsSync, readFileSync, writeFileSync } from 'node:fs'

/**
 * Sections other bench scripts own inside a results file (`<!-- name:start -->` …
 * `<!-- name:end -->`): bench/durability.ts and bench/abuse.ts write theirs, and
 * `bun run bench` keeps them when it regenerates the rest.
 */
const SECTION = /<!-- ([a-z-]+):start -->[\s\S]*?<!-- \1:end -->/g

const marked = (name: string, markdown: string) => `<!-- ${name}:start -->\n${markdown.trim()}\n<!-- ${name}:end -->`

/** Writes (or replaces) one section of `path`, leaving the rest of the file as it is. */
export function writeSection(path: string, name: string, markdown: string) {
  const current = existsSync(path) ? readFileSync(path, 'utf8') : ''
  const block = marked(name, markdown)
  const own = new RegExp(`<!-- ${name}:start -->[\\s\\S]*?<!-- ${name}:end -->`)
  writeFileSync(path, own.test(current) ? current.replace(own, block) : `${current.trimEnd()}\n\n${block}\n`)
}

/** `fresh` with the sections `path` held before, so regenerating a file loses none of them. */
export function withKeptSections(path: string, fresh: string) {
  const kept = existsSync(path) ? (readFileSync(path, 'utf8').match(SECTION) ?? []) : []
  return kept.length ? `${fresh.trimEnd()}\n\n${kept.join('\n\n')}\n` : fresh
}
