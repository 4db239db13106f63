import type { Shop } from './app'
import type { RegionDto } from './modules/regions'
import { systemClock } from './lib/clock'

const DEMO_ADMIN = { email: 'admin@shop.test', password: 'admin password' }
const DEMO_CUSTOMER = { email: 'customer@shop.test', password: 'customer password', name: 'Demo Customer' }

/** Tax in basis points: Brazil's ICMS in São Paulo, California's base sales tax, Vietnam's VAT, Singapore's GST. */
export const DEMO_REGIONS = [
  { title: 'Brazil', country: 'BR', currency: 'BRL', tax: 1800 },
  { title: 'USA', country: 'US', currency: 'USD', tax: 725 },
  { title: 'Vietnam', country: 'VN', currency: 'VND', tax: 1000 },
  { title: 'Singapore', country: 'SG', currency: 'SGD', tax: 900 },
]

/**
 * The Black Friday product: 24 hourly drops of 100 units need 2,400, and the rest is for
 * normal sales.
 */
export const IPHONE = {
  country: 'BR',
  sku: 'APPLE-IPHONE16-128-BLK',
  title: 'iPhone 16 128GB',
  description: 'Apple iPhone 16 with 128 GB of storage, black.',
  price: 779_900,
  stock: 3_000,
  attributes: { brand: 'Apple', model: 'iPhone 16', storage_gb: 128, colour: 'Black' },
}

const CATEGORIES = ['Programming', 'Computer Science', 'Fiction', 'Non-fiction', 'Electronics', 'Home & Kitchen', 'Stationery']

/** Real books; `usd` is the list price in US cents, converted per region below. */
const BOOKS = [
  { title: 'Clean Code', isbn: '9780132350884', author: 'Robert C. Martin', publisher: 'Prentice Hall', usd: 4499, category: 'Programming' },
  { title: 'The Pragmatic Programmer, 20th Anniversary Edition', isbn: '9780135957059', author: 'David Thomas, Andrew Hunt', publisher: 'Addison-Wesley', usd: 4999, category: 'Programming' },
  { title: 'Refactoring, 2nd Edition', isbn: '9780134757599', author: 'Martin Fowler', publisher: 'Addison-Wesley', usd: 5499, category: 'Programming' },
  { title: 'Design Patterns', isbn: '9780201633610', author: 'Erich Gamma, Richard Helm, Ralph Johnson, John Vlissides', publisher: 'Addison-Wesley', usd: 5999, category: 'Programming' },
  { title: 'Effective Java, 3rd Edition', isbn: '9780134685991', author: 'Joshua Bloch', publisher: 'Addison-Wesley', usd: 5499, category: 'Programming' },
  {
    title: 'Structure and Interpretation of Computer Programs, 2nd Edition',
    isbn: '9780262510875',
    author: 'Harold Abelson, Gerald Jay Sussman',
    publisher: 'MIT Press',
    usd: 5500,
    category: 'Computer Science',
  },
  { title: 'The C Programming Language, 2nd Edition', isbn: '9780131103627', author: 'Brian W. Kernighan, Dennis M. Ritchie', publisher: 'Prentice Hall', usd: 6799, category: 'Programming' },
  {
    title: 'Introduction to Algorithms, 3rd Edition',
    isbn: '9780262033848',
    author: 'Thomas H. Cormen, Charles E. Leiserson, Ronald L. Rivest, Clifford Stein',
    publisher: 'MIT Press',
    usd: 9900,
    category: 'Computer Science',
  },
  { title: 'Designing Data-Intensive Applications', isbn: '9781449373320', author: 'Martin Kleppmann', publisher: "O'Reilly Media", usd: 5999, category: 'Computer Science' },
  { title: 'Domain-Driven Design', isbn: '9780321125217', author: 'Eric Evans', publisher: 'Addison-Wesley', usd: 6499, category: 'Programming' },
  { title: 'The Mythical Man-Month, Anniversary Edition', isbn: '9780201835953', author: 'Frederick P. Brooks Jr.', publisher: 'Addison-Wesley', usd: 3999, category: 'Computer Science' },
  { title: 'Code Complete, 2nd Edition', isbn: '9780735619678', author: 'Steve McConnell', publisher: 'Microsoft Press', usd: 4999, category: 'Programming' },
  { title: 'Working Effectively with Legacy Code', isbn: '9780131177055', author: 'Michael C. Feathers', publisher: 'Prentice Hall', usd: 5999, category: 'Programming' },
  { title: 'JavaScript: The Good Parts', isbn: '9780596517748', author: 'Douglas Crockford', publisher: "O'Reilly Media", usd: 2999, category: 'Programming' },
  { title: 'Sapiens: A Brief History of Humankind', isbn: '9780062316097', author: 'Yuval Noah Harari', publisher: 'Harper', usd: 2499, category: 'Non-fiction' },
  { title: 'Thinking, Fast and Slow', isbn: '9780374533557', author: 'Daniel Kahneman', publisher: 'Farrar, Straus and Giroux', usd: 2000, category: 'Non-fiction' },
  { title: '1984', isbn: '9780451524935', author: 'George Orwell', publisher: 'Signet Classics', usd: 999, category: 'Fiction' },
  { title: 'To Kill a Mockingbird', isbn: '9780061120084', author: 'Harper Lee', publisher: 'Harper Perennial Modern Classics', usd: 1499, category: 'Fiction' },
  { title: 'The Great Gatsby', isbn: '9780743273565', author: 'F. Scott Fitzgerald', publisher: 'Scribner', usd: 1599, category: 'Fiction' },
  { title: 'The Hobbit', isbn: '9780547928227', author: 'J. R. R. Tolkien', publisher: 'Mariner Books', usd: 1499, category: 'Fiction' },
  { title: 'One Hundred Years of Solitude', isbn: '9780060883287', author: 'Gabriel García Márquez', publisher: 'Harper Perennial Modern Classics', usd: 1799, category: 'Fiction' },
  { title: 'The Alchemist', isbn: '9780062315007', author: 'Paulo Coelho', publisher: 'HarperOne', usd: 1799, category: 'Fiction' },
]

const GENERICS = [
  { sku: 'AMZ-KINDLE-PW-16GB', title: 'Kindle Paperwhite 16 GB', usd: 15999, category: 'Electronics', attributes: { brand: 'Amazon', storage_gb: 16, screen_in: 7 } },
  { sku: 'SONY-WH1000XM5-BLK', title: 'Sony WH-1000XM5 Wireless Headphones', usd: 39999, category: 'Electronics', attributes: { brand: 'Sony', colour: 'Black', noise_cancelling: true } },
  { sku: 'ANKER-USBC-CABLE-2M', title: 'Anker USB-C to USB-C Cable, 2 m', usd: 1599, category: 'Electronics', attributes: { brand: 'Anker', length_m: 2, watts: 100 } },
  { sku: 'MOLESKINE-CLASSIC-L-RULED', title: 'Moleskine Classic Notebook, Large, Ruled', usd: 2495, category: 'Stationery', attributes: { brand: 'Moleskine', pages: 240, cover: 'hard' } },
  { sku: 'HARIO-V60-02-WHT', title: 'Hario V60 Coffee Dripper 02, Ceramic', usd: 2500, category: 'Home & Kitchen', attributes: { brand: 'Hario', material: 'ceramic', cups: '1-4' } },
]

/** Demo exchange rates as integer fractions (minor units per US cent): prices stay integers. */
const PER_US_CENT: Record<string, [number, number]> = { BRL: [11, 2], VND: [254, 1], SGD: [135, 100] }

/** A shelf price in the region's currency: x.90 where there are cents, whole thousands of đồng. */
function localPrice(usCents: number, region: RegionDto) {
  if (region.currency === 'USD') return usCents
  const [numerator, denominator] = PER_US_CENT[region.currency]!
  const exact = Math.round((usCents * numerator) / denominator)
  if (region.currency_exponent === 0) return Math.round(exact / 1000) * 1000
  return Math.ceil(exact / 100) * 100 - 10
}

/** Stock figures that vary but stay the same on every run. */
const demoStock = (index: number) => 20 + ((index * 37) % 60)

type Services = Shop['services']

async function ensureRegions({ regions }: Services) {
  const existing = (await regions.list(100)).data
  const byCountry = new Map<string, RegionDto>()
  for (const region of DEMO_REGIONS) {
    byCountry.set(region.country, existing.find((r) => r.country === region.country) ?? (await regions.create(region)))
  }
  return byCountry
}

async function ensureCategories({ catalog }: Services) {
  const ids = new Map<string, string>()
  for (const name of CATEGORIES) ids.set(name, ((await catalog.categories.findCategory(name)) ?? (await catalog.categories.createCategory(name))).id)
  return ids
}

/** Demo regions, categories, books and other products; a product already there (same region and sku) is left as it is. */
async function seedCatalog(services: Services) {
  const { catalog } = services
  const regions = await ensureRegions(services)
  const categoryIds = await ensureCategories(services)
  let created = 0
  const ensure = async (input: Parameters<typeof catalog.create>[1]) => {
    const found = await catalog.findBySku(input.region_id, input.sku!)
    if (found) return found
    created++
    return catalog.create(null, input)
  }
  for (const region of regions.values()) {
    for (const [i, book] of BOOKS.entries()) {
      const { title, usd, category, ...attributes } = book
      await ensure({ type: 'book', region_id: region.id, sku: attributes.isbn, title, price: localPrice(usd, region), stock: demoStock(i), category_ids: [categoryIds.get(category)!], attributes })
    }
    for (const [i, item] of GENERICS.entries()) {
      const { usd, category, ...fields } = item
      await ensure({ type: 'generic', region_id: region.id, ...fields, price: localPrice(usd, region), stock: demoStock(i + BOOKS.length), category_ids: [categoryIds.get(category)!] })
    }
  }
  const { country, ...iphone } = IPHONE
  const iphoneProduct = await ensure({ type: 'generic', region_id: regions.get(country)!.id, ...iphone, category_ids: [categoryIds.get('Electronics')!] })
  return { regions: regions.size, categories: categoryIds.size, products_created: created, iphone: iphoneProduct }
}

/** The default campaign: 100 iPhones at R$ 1,00 (tax included) every hour, 24 drops, 15 minutes to pay. */
const BLACK_FRIDAY = { price: 100, units_per_drop: 100, drop_count: 24, interval_seconds: 3600, per_customer_limit: 1 as const, payment_window_seconds: 900 }

/** The Black Friday campaign on the iPhone, its first drop opening as the seed runs; kept if the iPhone already has one. */
async function ensureBlackFriday(shop: Shop, iphoneId: string) {
  const { campaigns } = shop.services.flashSale
  return (await campaigns.latestOf(iphoneId)) ?? campaigns.create('seed', { product_id: iphoneId, starts_at: systemClock.iso(), ...BLACK_FRIDAY })
}

/** Demo accounts and catalog; each step checks before it writes, so running it twice changes nothing. */
export async function seedDemo(shop: Shop) {
  const { accounts } = shop.services
  await accounts.users.ensureAdmin(DEMO_ADMIN.email, DEMO_ADMIN.password)
  await accounts.sessions.register(DEMO_CUSTOMER).catch((e) => {
    if (e?.code !== 'email_taken') throw e
  })
  const { iphone, ...catalog } = await seedCatalog(shop.services)
  const blackFriday = await ensureBlackFriday(shop, iphone.id)
  return { admin: DEMO_ADMIN.email, customer: DEMO_CUSTOMER.email, ...catalog, iphone_id: iphone.id, black_friday_campaign_id: blackFriday.id }
}
