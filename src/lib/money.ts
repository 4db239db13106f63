// Money is integer minor units, added and multiplied as BigInt: a sum of lines, or an amount
// × basis points, can pass 2^53, where a JS number stops being exact (and the database driver
// refuses to read it back).

/** The largest order_total an order may have (the contract's bound), far below 2^53: every amount of an order is an exact number. */
export const MAX_ORDER_TOTAL = 10_000_000_000_000n

/** Divides and rounds half up (amounts are never negative). */
const divideRounded = (numerator: bigint, denominator: bigint) => (numerator * 2n + denominator) / (denominator * 2n)

export interface Totals {
  subtotal: bigint
  tax: bigint
  total: bigint
}

export const lineTotal = (unitPrice: number, quantity: number) => BigInt(unitPrice) * BigInt(quantity)
export const sumOf = (amounts: readonly bigint[]) => amounts.reduce((sum, amount) => sum + amount, 0n)

/**
 * The one rounding rule: tax is computed once, on the sum of the lines, and rounded half up
 * to the minor unit. Net prices add the tax on top; tax-included prices (a flash sale's
 * final price) show the tax they contain and the total equals the subtotal.
 */
export function totalsOf(subtotal: bigint, taxBps: number, pricesIncludeTax = false): Totals {
  if (pricesIncludeTax) {
    const net = divideRounded(subtotal * 10_000n, BigInt(10_000 + taxBps))
    return { subtotal, tax: subtotal - net, total: subtotal }
  }
  const tax = divideRounded(subtotal * BigInt(taxBps), 10_000n)
  return { subtotal, tax, total: subtotal + tax }
}

/**
 * An amount for a JSON answer, exact at any size: a number up to 2^53, beyond it a raw JSON
 * integer that `JSON.stringify` writes digit for digit (a cart may hold more than any order
 * can: checkout refuses it, the cart still shows it exactly). `ExactInt` in lib/models is its schema.
 */
export const amountJson = (amount: bigint): number => (amount <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(amount) : (rawJson(amount.toString()) as number))

// ES2025's JSON.rawJSON (Bun has it; TypeScript's lib does not name it yet).
const rawJson = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON
