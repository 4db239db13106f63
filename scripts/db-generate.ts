// `bun run db:generate <module> [name]`: a new migration for one module's schema.ts.
import { MIGRATION_MODULES } from '../src/db/modules'

const [module, name = module] = process.argv.slice(2)
if (!module || !(MIGRATION_MODULES as readonly string[]).includes(module)) {
  console.error(`usage: bun run db:generate <${MIGRATION_MODULES.join('|')}> [name]`)
  process.exit(2)
}
const proc = Bun.spawnSync(['bunx', 'drizzle-kit', 'generate', '--name', name!.replace(/\W/g, '_')], {
  env: { ...process.env, MODULE: module },
  stdio: ['inherit', 'inherit', 'inherit'],
})
process.exit(proc.exitCode ?? 1)
