/** The Luhn checksum of card numbers: catches every single-digit typo and most swaps. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false
  let sum = 0
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i])
    if (i % 2 === 1) {
      digit *= 2
      if (digit > 9) digit -= 9
    }
    sum += digit
  }
  return sum % 10 === 0
}

/** First match wins: Elo comes before Visa and Mastercard because some of its ranges start with 4 or 5. */
const BRANDS: [brand: string, prefix: RegExp][] = [
  ['elo', /^(4011|4312|4389|4514|4576|5041|5066|5067|509|6277|6362|6363|650|6516|6550)/],
  ['visa', /^4/],
  ['mastercard', /^(5[1-5]|2(2[2-9]|[3-6]\d|7[01]|720))/],
  ['amex', /^3[47]/],
]

/** The card network from the number's prefix. */
export const cardBrand = (digits: string) => BRANDS.find(([, prefix]) => prefix.test(digits))?.[0] ?? 'unknown'
