// Money is integer minor units; BigInt keeps amount × basis points exact past 2^53.

/** Divides and rounds half up (amounts are never negative). */
const divideRounded = (numerator: bigint, denominator: bigint) => Number((numerator * 2n + denominator) / (denominator * 2n))

export interface Totals {
  subtotal: number
  tax: number
  total: number
}

/**
 * The one rounding rule: tax is computed once, on the sum of the lines, and rounded half up
 * to the minor unit. Net prices add the tax on top; tax-included prices (a flash sale's
 * final price) show the tax they contain and the total equals the subtotal.
 */
export function totalsOf(subtotal: number, taxBps: number, pricesIncludeTax = false): Totals {
  if (pricesIncludeTax) {
    const net = divideRounded(BigInt(subtotal) * 10_000n, BigInt(10_000 + taxBps))
    return { subtotal, tax: subtotal - net, total: subtotal }
  }
  const tax = divideRounded(BigInt(subtotal) * BigInt(taxBps), 10_000n)
  return { subtotal, tax, total: subtotal + tax }
}
