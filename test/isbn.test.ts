import { describe, expect, test } from 'bun:test'
import { isbn13To10, toIsbn13 } from '../src/lib/isbn'

describe('toIsbn13', () => {
  test('valid ISBN-13s come back compact', () => {
    expect(toIsbn13('9780134685991')).toBe('9780134685991')
    expect(toIsbn13('978-0-13-468599-1')).toBe('9780134685991')
    expect(toIsbn13('978 1 4493 7332 0')).toBe('9781449373320')
    expect(toIsbn13('979-10-90636-07-1')).toBe('9791090636071')
  })

  test('valid ISBN-10s become their ISBN-13, including an X check digit', () => {
    expect(toIsbn13('0-306-40615-2')).toBe('9780306406157')
    expect(toIsbn13('0134685997')).toBe('9780134685991')
    expect(toIsbn13('0-8044-2957-X')).toBe('9780804429573')
    expect(toIsbn13('080442957x')).toBe('9780804429573')
  })

  test('a wrong check digit, length, prefix or character is refused', () => {
    for (const bad of [
      '9780134685992', // ISBN-13 check digit off by one
      '0-306-40615-3', // ISBN-10 check digit off by one
      '0306406125', // two digits swapped
      '9770134685991', // 977 is an ISSN prefix, not an ISBN
      'X306406152', // X only as the last ISBN-10 digit
      '978013468599', // 12 digits
      '97801346859911', // 14 digits
      '978O134685991', // a letter O
      '',
      'isbn',
    ]) {
      expect(toIsbn13(bad)).toBeNull()
    }
  })
})

describe('isbn13To10', () => {
  test('978 ISBNs have an ISBN-10, 979 ones do not', () => {
    expect(isbn13To10('9780306406157')).toBe('0306406152')
    expect(isbn13To10('9780804429573')).toBe('080442957X')
    expect(isbn13To10('9791090636071')).toBeNull()
  })
})
