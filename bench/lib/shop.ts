/**
 * The shop's HTTP contract as the scenarios' setup and teardown use it (admin calls,
 * seeding, reading results back). Plain k6-style calls, failing loudly on an answer the
 * contract does not allow.
 */
import http, { type Params, type Response } from './http'

export const bearer = (token: string, more: Record<string, string> = {}): Params => ({
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...more },
})

/** Calls the API and returns the parsed body, or throws naming the call and its answer. */
export async function api<T = any>(method: string, url: string, token: string | null, body?: unknown, expected: number[] = [200, 201]): Promise<T> {
  const params = token ? bearer(token) : { headers: { 'content-type': 'application/json' } }
  const res: Response = await http.request(method, url, body === undefined ? null : JSON.stringify(body), params)
  if (!expected.includes(res.status)) throw new Error(`${method} ${url} answered ${res.status}${res.error ? ` (${res.error})` : ''}: ${res.body?.slice(0, 500)}`)
  return (res.body ? JSON.parse(res.body) : undefined) as T
}

/** Every item of a paginated list (`{ data, next_cursor }`). */
export async function listAll<T = any>(url: string, token: string | null): Promise<T[]> {
  const out: T[] = []
  let cursor: string | null = null
  do {
    const sep = url.includes('?') ? '&' : '?'
    const page: { data: T[]; next_cursor: string | null } = await api('GET', `${url}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, token)
    out.push(...page.data)
    cursor = page.next_cursor
  } while (cursor)
  return out
}

export const createRegion = (base: string, admin: string) => api('POST', `${base}/v1/regions`, admin, { title: 'Brasil', country: 'BR', currency: 'BRL', tax: 1000 })

const AUTHORS = ['Machado de Assis', 'Clarice Lispector', 'Jorge Amado', 'Cecília Meireles', 'Graciliano Ramos', 'Guimarães Rosa', 'Lygia Fagundes Telles', 'Rachel de Queiroz']
const WORDS = ['sertão', 'memórias', 'vidas', 'mar', 'cidade', 'noite', 'estrela', 'hora', 'jardim', 'viagem', 'sonho', 'tempo']
const GADGETS = ['Phone', 'Headphones', 'Charger', 'Speaker', 'Watch', 'Tablet', 'Camera', 'Keyboard']

/** A valid ISBN-13 (978 prefix, checksum computed) from a running number. */
export function isbn13(n: number): string {
  const body = `978${String(n).padStart(9, '0')}`
  const sum = [...body].reduce((acc, digit, i) => acc + Number(digit) * (i % 2 ? 3 : 1), 0)
  return body + ((10 - (sum % 10)) % 10)
}

/** Product bodies for a browsable catalog: books (author, ISBN) and generic items, with searchable words. */
export function catalogProducts(regionId: string, count: number, stock: number) {
  return Array.from({ length: count }, (_, i) => {
    const word = WORDS[i % WORDS.length]!
    const kind = Math.floor(i / 2)
    if (i % 2 === 0) {
      return {
        type: 'book',
        region_id: regionId,
        sku: `BOOK-${i}`,
        title: `${word[0]!.toUpperCase()}${word.slice(1)} ${WORDS[(i * 7) % WORDS.length]} ${i}`,
        description: 'A novel for the load test.',
        price: 2990 + (i % 50) * 100,
        stock,
        attributes: { isbn: isbn13(i + 1), author: AUTHORS[kind % AUTHORS.length], publisher: 'Bench Editora' },
      }
    }
    return {
      type: 'generic',
      region_id: regionId,
      sku: `ITEM-${i}`,
      title: `${GADGETS[kind % GADGETS.length]} ${word} ${i}`,
      description: 'A gadget for the load test.',
      price: 9990 + (i % 40) * 500,
      stock,
      attributes: { color: i % 3 ? 'black' : 'white' },
    }
  })
}

/** Search terms that hit the catalog above: title words, authors' surnames, a SKU and an ISBN. */
export const SEARCH_TERMS = [...WORDS.slice(0, 6), 'Amado', 'Lispector', 'Rosa', 'BOOK-10', isbn13(5), 'Phone']

/** Creates the products (in a few parallel streams) and returns them as the API answered. */
export async function createProducts(base: string, admin: string, bodies: object[], parallel = 8): Promise<any[]> {
  const out: any[] = new Array(bodies.length)
  let next = 0
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < bodies.length) {
        const i = next++
        out[i] = await api('POST', `${base}/v1/products`, admin, bodies[i], [201])
      }
    }),
  )
  return out
}

export const SHIPPING_ADDRESS = { line1: 'Av. Paulista, 1000', city: 'São Paulo', state: 'SP', postal_code: '01310-100', country: 'BR' }
/** Approved by the fake gateway (valid Luhn, not the decline number). */
export const APPROVED_CARD = { number: '4242424242424242', exp_month: 12, exp_year: 2030, cvc: '123', holder: 'Bench Customer' }
