import { and, asc, eq, gt, isNull } from 'drizzle-orm'
import type { Database, Queryable, Tx } from '../../db/client'
import type { Clock } from '../../lib/clock'
import { conflict, invalid, notFound } from '../../lib/errors'
import { newId } from '../../lib/ids'
import { currencyExponent, isCountryCode } from '../../lib/iso-codes'
import { DEFAULT_PAGE_SIZE, cursorAfter, isStringKey, pageOf } from '../../lib/pages'
import type { CreateRegionInput, PatchRegionInput, RegionDto } from './model'
import { regions } from './schema'

export type RegionRow = typeof regions.$inferSelect

const toRegion = (row: RegionRow): RegionDto => ({
  id: row.id,
  title: row.title,
  country: row.country,
  currency: row.currency,
  currency_exponent: row.currencyExponent,
  tax: row.taxBps,
})

/** A live region, or undefined. */
export const liveRegion = (db: Queryable, id: string) =>
  db
    .select()
    .from(regions)
    .where(and(eq(regions.id, id), isNull(regions.deletedAt)))
    .get()

function checkedCodes(input: { country?: string; currency?: string }) {
  const country = input.country?.toUpperCase()
  const currency = input.currency?.toUpperCase()
  const exponent = currency === undefined ? undefined : currencyExponent(currency)
  const errors = []
  if (country !== undefined && !isCountryCode(country)) errors.push({ field: 'country', message: `${country} is not an ISO 3166-1 alpha-2 country code` })
  if (exponent === null) errors.push({ field: 'currency', message: `${currency} is not an ISO 4217 currency` })
  if (errors.length) throw invalid(errors)
  return { country, currency, currencyExponent: exponent ?? undefined }
}

/** Whether a region has products (deleted ones too when asked): the catalog's answer, given here so regions need not know products. */
export type HasProducts = (tx: Tx, regionId: string, options: { includeDeleted: boolean }) => Promise<boolean>

export interface RegionsDeps {
  database: Database
  clock: Clock
  hasProducts: HasProducts
}

export class RegionsService {
  constructor(private readonly deps: RegionsDeps) {}

  async list(limit = DEFAULT_PAGE_SIZE, cursor?: string) {
    const after = cursorAfter(cursor, isStringKey)
    const rows = await this.deps.database.db
      .select()
      .from(regions)
      .where(and(isNull(regions.deletedAt), after ? gt(regions.id, after) : undefined))
      .orderBy(asc(regions.id))
      .limit(limit + 1)
    return pageOf(rows, limit, (r) => r.id, toRegion)
  }

  async get(id: string) {
    const row = await liveRegion(this.deps.database.db, id)
    if (!row) throw notFound('Region')
    return toRegion(row)
  }

  async create(input: CreateRegionInput) {
    const codes = checkedCodes(input)
    const now = this.deps.clock.iso()
    const row: RegionRow = {
      id: newId(),
      title: input.title.trim(),
      country: codes.country!,
      currency: codes.currency!,
      currencyExponent: codes.currencyExponent!,
      taxBps: input.tax,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
    }
    await this.deps.database.write((tx) => tx.insert(regions).values(row))
    return toRegion(row)
  }

  /** Its currency is fixed once it has products: their prices are minor units of it. */
  async update(id: string, patch: PatchRegionInput) {
    const { country, currency, currencyExponent } = checkedCodes(patch)
    const row = await this.deps.database.write(async (tx) => {
      const region = await liveRegion(tx, id)
      if (!region) throw notFound('Region')
      if (currency !== undefined && currency !== region.currency && (await this.deps.hasProducts(tx, id, { includeDeleted: true }))) {
        throw conflict('The currency of a region with products cannot change: their prices are in it')
      }
      return tx
        .update(regions)
        .set({ title: patch.title?.trim(), country, currency, currencyExponent, taxBps: patch.tax, updatedAt: this.deps.clock.iso() })
        .where(eq(regions.id, id))
        .returning()
        .get()
    })
    return toRegion(row)
  }

  /** Soft delete, refused while live products are in it. */
  async delete(id: string) {
    await this.deps.database.write(async (tx) => {
      if (!(await liveRegion(tx, id))) throw notFound('Region')
      if (await this.deps.hasProducts(tx, id, { includeDeleted: false })) throw conflict('The region still has products: delete them first')
      const now = this.deps.clock.iso()
      await tx.update(regions).set({ deletedAt: now, updatedAt: now }).where(eq(regions.id, id))
    })
  }
}
