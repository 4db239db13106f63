import { invalid } from '../../lib/errors'
import { isCountryCode } from '../../lib/iso-codes'
import type { AddressInput } from './model'

/** The schema checks the shape of `country`; this checks it names a real country (same rule as regions). */
export function checkAddress(address: AddressInput, field: string) {
  if (!isCountryCode(address.country)) throw invalid([{ field: `${field}.country`, message: 'Not an assigned ISO 3166-1 alpha-2 country code' }])
  return address
}
