// Every module's tables, gathered for drizzle (queries) and drizzle-kit (migrations).
export * from '../modules/accounts/schema'
