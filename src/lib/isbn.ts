const digitsOf = (s: string) => [...s].map((c) => (c === 'X' ? 10 : Number(c)))

const isbn13CheckDigit = (first12: string) => {
  const sum = digitsOf(first12).reduce((acc, d, i) => acc + d * (i % 2 === 0 ? 1 : 3), 0)
  return String((10 - (sum % 10)) % 10)
}

const isbn10Valid = (isbn10: string) => digitsOf(isbn10).reduce((acc, d, i) => acc + d * (10 - i), 0) % 11 === 0

/**
 * The ISBN-13 of a valid ISBN-10 or ISBN-13, checksum verified; hyphens and spaces are
 * ignored, an ISBN-10's check digit may be `X`. Null when it is not a valid ISBN.
 */
export function toIsbn13(input: string): string | null {
  const compact = input.replace(/[\s-]/g, '').toUpperCase()
  if (/^\d{9}[\dX]$/.test(compact)) {
    if (!isbn10Valid(compact)) return null
    const first12 = `978${compact.slice(0, 9)}`
    return first12 + isbn13CheckDigit(first12)
  }
  if (/^97[89]\d{10}$/.test(compact)) return isbn13CheckDigit(compact.slice(0, 12)) === compact[12] ? compact : null
  return null
}

/** The ISBN-10 of a 978 ISBN-13 (979 ones have none), so old references still find the book. */
export function isbn13To10(isbn13: string): string | null {
  if (!/^978\d{10}$/.test(isbn13)) return null
  const first9 = isbn13.slice(3, 12)
  const sum = digitsOf(first9).reduce((acc, d, i) => acc + d * (10 - i), 0)
  const check = (11 - (sum % 11)) % 11
  return first9 + (check === 10 ? 'X' : String(check))
}
