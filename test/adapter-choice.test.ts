import { expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'

const SRC = join(import.meta.dir, '../src')
const sources = [...new Bun.Glob('**/*.ts').scanSync(SRC)].map((path) => join('src', path))
const IMPORT = /^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm

/** Each source file with the files it imports from src/ (relative specifiers, resolved). */
const imports = sources.map((file) => {
  const text = readFileSync(join(SRC, '..', file), 'utf8')
  const targets = [...text.matchAll(IMPORT)]
    .map((match) => match[1]!)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => relative(join(SRC, '..'), join(SRC, '..', dirname(file), specifier)))
  return { file, text, targets }
})

/** The in-process and Redis (or disk and S3) adapters of a port. */
const ADAPTER = /^src\/(infra\/(events|limiter|storage|stream-slots)|modules\/flash-sale\/queue)\/(memory|redis|local|s3)(\.ts)?$/

test('adapters are chosen in src/deps.ts only (their own folder aside)', () => {
  const offenders = imports.flatMap(({ file, targets }) =>
    targets.filter((target) => ADAPTER.test(target) && file !== 'src/deps.ts' && dirname(target) !== dirname(file)).map((target) => `${file} → ${target}`),
  )
  expect(offenders).toEqual([])
})

test('nothing but src/deps.ts (and the config that reads it) asks whether Redis is configured', () => {
  const asking = imports.filter(({ file, text }) => /REDIS_URL/.test(text) && file !== 'src/deps.ts' && file !== 'src/config.ts').map(({ file }) => file)
  expect(asking).toEqual([])
})

test('only the entry points import src/app.ts', () => {
  const importers = imports.filter(({ targets }) => targets.some((target) => target === 'src/app' || target === 'src/app.ts')).map(({ file }) => file)
  expect(importers.sort()).toEqual(['src/main.ts', 'src/seed-data.ts', 'src/seed.ts'])
})
