import { expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { endpointTable, withTable } from '../scripts/endpoints'

test('the README endpoint table matches the OpenAPI document (run `bun run docs:endpoints`)', async () => {
  const readme = readFileSync('README.md', 'utf8')
  expect(withTable(readme, await endpointTable())).toBe(readme)
})
