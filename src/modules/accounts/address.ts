import { open, seal, type DataKey } from '../../lib/crypto'
import { invalid } from '../../lib/errors'
import { isCountryCode } from '../../lib/iso-codes'
import type { AddressInput } from './model'

/** The schema checks the shape of `country`; this checks it names a real country (same rule as regions). */
export function checkAddress(address: AddressInput, field: string) {
  if (!isCountryCode(address.country)) throw invalid([{ field: `${field}.country`, message: 'Not an assigned ISO 3166-1 alpha-2 country code' }])
  return address
}

/** An address as stored (profile, order): JSON sealed with AES-256-GCM under the current key, `dataKeys[0]`. */
export const sealAddress = (address: AddressInput, dataKeys: DataKey[]) => seal(JSON.stringify(address), dataKeys[0]!)

/**
 * Opens an address sealed under any of `dataKeys` (the key id is in the sealed value). So a
 * sealed address is copied as it is from one row to another (profile → order) even when an
 * older key sealed it: re-sealing would cost two operations and still leave the profile's
 * copy under the old key, which rotation must keep until nothing uses it.
 */
export const openAddress = (sealed: string, dataKeys: DataKey[]) => JSON.parse(open(sealed, dataKeys)) as AddressInput
