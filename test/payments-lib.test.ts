import { describe, expect, test } from 'bun:test'
import { crc16ccitt, pixCode } from '../src/lib/pix'
import { cardBrand, luhnValid } from '../src/lib/luhn'
import { totalsOf } from '../src/lib/money'
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
      '000201' + '010212' + '2635' + '0014br.gov.bcb.pix' + '0113pix@shop.test' + '52040000' + '5303986' + '54071000.05' + '5802BR' + '5913LOJA SAO JOAO' + '6009SAO PAULO' + '62100506ab12cd' + '6304' + crc16ccitt(code.slice(0, -4)),
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
  test('tax on the subtotal, rounded half up once', () => {
    expect(totalsOf(3265, 1000)).toEqual({ subtotal: 3265, tax: 327, total: 3592 })
    expect(totalsOf(3264, 1000)).toEqual({ subtotal: 3264, tax: 326, total: 3590 })
    expect(totalsOf(1, 4999)).toEqual({ subtotal: 1, tax: 0, total: 1 })
    expect(totalsOf(1, 5000)).toEqual({ subtotal: 1, tax: 1, total: 2 })
    expect(totalsOf(0, 1000)).toEqual({ subtotal: 0, tax: 0, total: 0 })
  })

  test('tax included: the total is the subtotal and the tax is the part it contains', () => {
    expect(totalsOf(100, 1000, true)).toEqual({ subtotal: 100, tax: 9, total: 100 })
    expect(totalsOf(1999, 1000, true)).toEqual({ subtotal: 1999, tax: 182, total: 1999 })
  })

  test('exact past 2^53', () => {
    expect(totalsOf(9_000_000_000_000_001, 1)).toEqual({ subtotal: 9_000_000_000_000_001, tax: 900_000_000_000, total: 9_000_900_000_000_001 })
  })
})

describe('workflow steps', () => {
  test('a failing step compensates the finished ones, newest first, with what they returned; its error goes on', async () => {
    const log: string[] = []
    const failure = new Error('charge refused')
    const error = await runWorkflow({}, [
      step('reserve', async () => 'units', async (_c, out) => void log.push(`undo reserve ${out}`)),
      step('no undo', async () => void log.push('no undo ran')),
      step('order', async () => 'order-1', async (_c, out) => void log.push(`undo order ${out}`)),
      step('charge', async () => Promise.reject(failure), async () => void log.push('undo charge')),
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
        step('a', async () => 1, async () => void log.push('undo a')),
        step('b', async () => 2, async () => Promise.reject(new Error('stuck'))),
        step('c', async () => Promise.reject(new Error('boom'))),
      ],
      (name) => reported.push(name),
    ).catch(() => undefined)
    expect(reported).toEqual(['b'])
    expect(log).toEqual(['undo a'])
  })
})
