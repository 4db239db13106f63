import { asc, eq, gt, inArray, sql } from 'drizzle-orm'
import type { Tx } from '../../db/client'
import { isUniqueViolation } from '../../db/errors'
import { conflict, invalid, notFound } from '../../lib/errors'
import { newId } from '../../lib/ids'
import { DEFAULT_PAGE_SIZE, cursorAfter, isStringKey, pageOf } from '../../lib/pages'
import { categories, productCategories } from './schema'
import type { CatalogDeps } from './service'

type CategoryRow = typeof categories.$inferSelect

const toCategory = (row: CategoryRow) => ({ id: row.id, name: row.name, created_at: row.createdAt })

/** The catalog's categories; writes go through the catalog's own `write`, which forgets cached pages. */
export class Categories {
  constructor(
    private readonly deps: CatalogDeps,
    private readonly write: <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>,
  ) {}

  async listCategories(limit = DEFAULT_PAGE_SIZE, cursor?: string) {
    const after = cursorAfter(cursor, isStringKey)
    const rows = await this.deps.database.db
      .select()
      .from(categories)
      .where(after ? gt(categories.id, after) : undefined)
      .orderBy(asc(categories.id))
      .limit(limit + 1)
    return pageOf(rows, limit, (r) => r.id, toCategory)
  }

  async createCategory(name: string) {
    const row: CategoryRow = { id: newId(), name: name.trim(), createdAt: this.deps.clock.iso() }
    try {
      await this.deps.database.write((tx) => tx.insert(categories).values(row))
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`A category named "${row.name}" already exists`)
      throw error
    }
    return toCategory(row)
  }

  async updateCategory(id: string, name: string) {
    const trimmed = name.trim()
    try {
      const row = await this.write((tx) => tx.update(categories).set({ name: trimmed }).where(eq(categories.id, id)).returning().get())
      if (!row) throw notFound('Category')
      return toCategory(row)
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`A category named "${trimmed}" already exists`)
      throw error
    }
  }

  /** Deletes a category; the products in it lose it (they stay in their other categories). */
  async deleteCategory(id: string) {
    const deleted = await this.write(async (tx) => {
      await tx.delete(productCategories).where(eq(productCategories.categoryId, id))
      return tx.delete(categories).where(eq(categories.id, id)).returning({ id: categories.id }).get()
    })
    if (!deleted) throw notFound('Category')
  }

  /** A category by name, case-insensitively (the seed finds what it made before this way). */
  async findCategory(name: string) {
    const row = await this.deps.database.db.select().from(categories).where(sql`lower(${categories.name}) = lower(${name.trim()})`).get()
    return row && toCategory(row)
  }
}

export async function checkCategories(tx: Tx, ids: string[]) {
  if (ids.length === 0) return
  const found = new Set((await tx.select({ id: categories.id }).from(categories).where(inArray(categories.id, ids))).map((c) => c.id))
  const errors = ids.flatMap((id, i) => (found.has(id) ? [] : [{ field: `category_ids.${i}`, message: 'No such category' }]))
  if (errors.length) throw invalid(errors)
}

export async function linkCategories(tx: Tx, productId: string, ids: string[]) {
  if (ids.length) await tx.insert(productCategories).values(ids.map((categoryId) => ({ productId, categoryId })))
}
