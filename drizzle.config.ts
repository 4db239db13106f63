import { defineConfig } from 'drizzle-kit'
import { MIGRATION_MODULES, type MigrationModule } from './src/db/modules'

// One module at a time: `bun run db:generate <module>` (see scripts/db-generate.ts).
const module = process.env.MODULE as MigrationModule
if (!MIGRATION_MODULES.includes(module)) throw new Error(`MODULE must be one of ${MIGRATION_MODULES.join(', ')}`)

export default defineConfig({
  dialect: 'sqlite',
  schema: `./src/modules/${module}/schema.ts`,
  out: `./drizzle/${module}`,
  migrations: { table: `__drizzle_migrations_${module.replace('-', '_')}` },
})
