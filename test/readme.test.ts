import { expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { readmeBlocks, withBlocks } from '../scripts/endpoints'

test("the README's generated blocks (endpoints, module map, route table) match the code (run `bun run docs:endpoints`)", async () => {
  const readme = readFileSync('README.md', 'utf8')
  const blocks = await readmeBlocks()
  expect(blocks.routes).toContain('| POST | `/v1/orders` | orders/routes.ts | `orders.checkout` |')
  expect(blocks.modules).toContain('inventory[inventory] --> catalog[catalog]')
  expect(withBlocks(readme, blocks)).toBe(readme)
})
