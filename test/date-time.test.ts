import { describe, expect, test } from 'bun:test'
import { parseDateTime } from '../src/lib/date-time'

describe('parseDateTime (RFC 3339 date-time)', () => {
  test('full date-times in UTC or with an offset, fractions to the millisecond', () => {
    expect(parseDateTime('2030-01-02T10:00:00Z')).toBe(Date.UTC(2030, 0, 2, 10))
    expect(parseDateTime('2030-01-02t10:00:00z')).toBe(Date.UTC(2030, 0, 2, 10))
    expect(parseDateTime('2030-01-02T10:00:00.57-03:00')).toBe(Date.UTC(2030, 0, 2, 13, 0, 0, 570))
    expect(parseDateTime('2030-01-02T10:00:00.123456+05:30')).toBe(Date.UTC(2030, 0, 2, 4, 30, 0, 123))
    expect(parseDateTime('2028-02-29T23:59:59Z')).toBe(Date.UTC(2028, 1, 29, 23, 59, 59))
    expect(parseDateTime('9999-12-31T23:59:59Z')).toBe(Date.UTC(9999, 11, 31, 23, 59, 59))
  })

  test('anything else, and times that do not exist, are refused', () => {
    for (const bad of [
      '2030-01-02',
      '2030-01-02T10:00Z',
      '2030-01-02T10:00:00',
      '2030-01-02 10:00:00Z',
      '+275760-09-13T00:00:00Z',
      '2030-02-30T00:00:00Z',
      '2029-02-29T00:00:00Z',
      '2030-13-01T00:00:00Z',
      '2030-00-10T00:00:00Z',
      '2030-01-00T00:00:00Z',
      '2030-01-02T24:00:00Z',
      '2030-01-02T10:60:00Z',
      '2030-12-31T23:59:60Z',
      '2030-01-02T10:00:00+24:00',
      '2030-01-02T10:00:00+05:60',
      '2030-01-02T10:00:00+0500',
      ' 2030-01-02T10:00:00Z',
      'tomorrow',
      '',
    ])
      expect({ bad, parsed: parseDateTime(bad) }).toEqual({ bad, parsed: null })
  })
})
