// Country and currency codes come from the ICU data Bun already carries (Intl), so they
// follow CLDR updates without a table of our own. ICU also names a few codes that are not
// assigned country codes; those are ruled out below.

const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' })

/** ISO 3166 reserved elements ICU still names: exceptional (EU, UN…) and transitional (UK, SU, YU…). */
const RESERVED_REGIONS = new Set(['AC', 'CP', 'CQ', 'DG', 'EA', 'IC', 'TA', 'EU', 'EZ', 'UN', 'AN', 'CS', 'DY', 'HV', 'NH', 'RH', 'SU', 'UK', 'VD', 'YU'])
/** ISO 3166 user-assigned ranges (AA, QM–QZ, XA–XZ, ZZ): never a country. */
const USER_ASSIGNED = /^(AA|Q[M-Z]|X[A-Z]|ZZ)$/

/** True for an assigned ISO 3166-1 alpha-2 code (upper case). */
export function isCountryCode(code: string): boolean {
  if (!/^[A-Z]{2}$/.test(code) || USER_ASSIGNED.test(code) || RESERVED_REGIONS.has(code)) return false
  // Deprecated aliases (DD, ZR, BU…) canonicalise to their successor.
  return regionNames.of(code) !== undefined && Intl.getCanonicalLocales(`und-${code}`)[0] === `und-${code}`
}

const currencies = new Set(Intl.supportedValuesOf('currency'))
/** ISO 4217 codes that are not money a price can be in: metals, bond units, SDR, testing, none. */
const NOT_MONEY = new Set(['XAU', 'XAG', 'XPD', 'XPT', 'XBA', 'XBB', 'XBC', 'XBD', 'XDR', 'XSU', 'XUA', 'XTS', 'XXX'])

/**
 * The minor-unit exponent of an ISO 4217 currency (VND 0, BRL 2, BHD 3), or null when the
 * code is not a currency prices can be in.
 */
export function currencyExponent(code: string): number | null {
  if (!/^[A-Z]{3}$/.test(code) || !currencies.has(code) || NOT_MONEY.has(code)) return null
  return new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions().maximumFractionDigits ?? null
}
