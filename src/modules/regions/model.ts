import { t } from 'elysia'
import { Id, Int, Page, PageQuery, Problem, query, strictObject } from '../../lib/models'
import { Text } from '../../lib/text'

const Title = Text({ blank: false, maxLength: 100 })
const Country = t.String({ pattern: '^[A-Za-z]{2}$', description: 'ISO 3166-1 alpha-2 (stored upper case)' })
const Currency = t.String({ pattern: '^[A-Za-z]{3}$', description: 'ISO 4217 (stored upper case)' })
const Tax = Int({ minimum: 0, maximum: 10_000, description: 'Basis points: 1000 is 10 %' })

export const Region = t.Object({
  id: t.String(),
  title: t.String(),
  country: t.String(),
  currency: t.String(),
  currency_exponent: Int({ description: 'Digits of the minor unit: prices are integers in 10^-exponent of the currency (VND 0, BRL 2)' }),
  tax: Int(),
})

export const CreateRegionBody = strictObject({ title: Title, country: Country, currency: Currency, tax: Tax }, { examples: [{ title: 'Brazil', country: 'BR', currency: 'BRL', tax: 1000 }] })
export const PatchRegionBody = strictObject({ title: t.Optional(Title), country: t.Optional(Country), currency: t.Optional(Currency), tax: t.Optional(Tax) }, { examples: [{ tax: 1200 }] })
export const RegionParams = t.Object({ id: Id })
export const RegionsQuery = query({ ...PageQuery })
export const RegionPage = Page(Region)

export { Problem }
export type RegionDto = typeof Region.static
export type CreateRegionInput = typeof CreateRegionBody.static
export type PatchRegionInput = typeof PatchRegionBody.static
