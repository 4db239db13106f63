import { describe, expect, test } from 'bun:test'
import { crc16ccitt, pixCode } from '../src/lib/pix'
import { cardBrand, luhnValid } from '../src/lib/luhn'
import { amountJson, lineTotal, sumOf, totalsOf } from '../src/lib/money'
import { runWorkflow, step } from '../src/lib/workflow'

describe('CRC16-CCITT and Pix BR Code', () => {
  test('the standard check value and the Banco Central manual example', () => {
    expect(crc16ccitt('123456789')).toBe('29B1')
    const example = '00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***6304'
    expect(crc16ccitt(example)).toBe('1D3D')
  })

  test('a code: fields with their lengths, amount in reais, plain upper-case names, CRC over everything before it', () => {
    const code = pixCode({ key: 'pix@shop.test', merchantName: 'Loja São João', merchantCity: 'São Paulo', amount: 100005, txid: 'ab-12_cd' })
    expect(code).toBe(
      '000201' +
        '010212' +
        '2635' +
        '0014br.gov.bcb.pix' +
        '0113pix@shop.test' +
        '52040000' +
        '5303986' +
        '54071000.05' +
        '5802BR' +
        '5913LOJA SAO JOAO' +
        '6009SAO PAULO' +
        '62100506ab12cd' +
        '6304' +
        crc16ccitt(code.slice(0, -4)),
    )
    expect(pixCode({ key: 'k', merchantName: 'S', merchantCity: 'C', amount: 7, txid: 'x' })).toContain('54040.07')
  })
})

describe('Luhn and card brands', () => {
  test.each([
    ['4242424242424242', true],
    ['4000000000000002', true],
    ['5555555555554444', true],
    ['378282246310005', true],
    ['4242424242424241', false],
    ['1234567812345678', false],
    ['42424242424242a2', false],
  ])('%s → %p', (number, valid) => expect(luhnValid(number)).toBe(valid))

  test('brands by prefix', () => {
    expect(['4242424242424242', '5555555555554444', '2223003122003222', '378282246310005', '6362970000457013', '6011111111111117'].map(cardBrand)).toEqual([
      'visa',
      'mastercard',
      'mastercard',
      'amex',
      'elo',
      'unknown',
    ])
  })
})

describe('totals: one rounding rule', () => {
  const totals = (subtotal: bigint, taxBps: number, pricesIncludeTax?: boolean) => totalsOf(subtotal, taxBps, pricesIncludeTax)
  test('tax on the subtotal, rounded half up once', () => {
    expect(totals(3265n, 1000)).toEqual({ subtotal: 3265n, tax: 327n, total: 3592n })
    expect(totals(3264n, 1000)).toEqual({ subtotal: 3264n, tax: 326n, total: 3590n })
    expect(totals(1n, 4999)).toEqual({ subtotal: 1n, tax: 0n, total: 1n })
    expect(totals(1n, 5000)).toEqual({ subtotal: 1n, tax: 1n, total: 2n })
    expect(totals(0n, 1000)).toEqual({ subtotal: 0n, tax: 0n, total: 0n })
  })

  test('tax included: the total is the subtotal and the tax is the part it contains', () => {
    expect(totals(100n, 1000, true)).toEqual({ subtotal: 100n, tax: 9n, total: 100n })
    expect(totals(1999n, 1000, true)).toEqual({ subtotal: 1999n, tax: 182n, total: 1999n })
  })

  test('exact past 2^53, where numbers would be off', () => {
    expect(totals(9_000_000_000_000_001n, 1)).toEqual({ subtotal: 9_000_000_000_000_001n, tax: 900_000_000_000n, total: 9_000_900_000_000_001n })
    // 999 × ten prices just under 10^12: the sum in floating point is off by one.
    const lines = Array.from({ length: 10 }, (_, i) => lineTotal(999_999_999_999 - i, 999))
    expect(BigInt(lines.reduce((sum, line) => sum + Number(line), 0))).not.toBe(sumOf(lines))
    expect(sumOf(lines)).toBe(9_989_999_999_945_055n)
    expect(totals(sumOf(lines), 1000).total).toBe(10_988_999_999_939_561n)
  })

  test('amounts for JSON: numbers while exact, raw JSON integers beyond', () => {
    expect(amountJson(9_007_199_254_740_991n)).toBe(9_007_199_254_740_991)
    expect(JSON.stringify({ total: amountJson(10_988_999_999_939_561n) })).toBe('{"total":10988999999939561}')
  })
})

describe('workflow steps', () => {
  test('a failing step compensates the finished ones, newest first, with what they returned; its error goes on', async () => {
    const log: string[] = []
    const failure = new Error('charge refused')
    const error = await runWorkflow({}, [
      step(
        'reserve',
        async () => 'units',
        async (_c, out) => void log.push(`undo reserve ${out}`),
      ),
      step('no undo', async () => void log.push('no undo ran')),
      step(
        'order',
        async () => 'order-1',
        async (_c, out) => void log.push(`undo order ${out}`),
      ),
      step(
        'charge',
        async () => Promise.reject(failure),
        async () => void log.push('undo charge'),
      ),
    ]).catch((e) => e)
    expect(error).toBe(failure)
    expect(log).toEqual(['no undo ran', 'undo order order-1', 'undo reserve units'])
  })

  test('a compensation that fails is reported and the others still run', async () => {
    const reported: string[] = []
    const log: string[] = []
    await runWorkflow(
      {},
      [
        step(
          'a',
          async () => 1,
          async () => void log.push('undo a'),
        ),
        step(
          'b',
          async () => 2,
          async () => Promise.reject(new Error('stuck')),
        ),
        step('c', async () => Promise.reject(new Error('boom'))),
      ],
      (name) => reported.push(name),
    ).catch(() => undefined)
    expect(reported).toEqual(['b'])
    expect(log).toEqual(['undo a'])
  })
})
