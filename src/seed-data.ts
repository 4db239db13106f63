import type { Shop } from './app'

export const DEMO_ADMIN = { email: 'admin@shop.test', password: 'admin password' }
export const DEMO_CUSTOMER = { email: 'customer@shop.test', password: 'customer password', name: 'Demo Customer' }

/** Demo accounts; each step checks before it writes, so running it twice changes nothing. */
export async function seedDemo(shop: Shop) {
  const { accounts } = shop.services
  await accounts.ensureAdmin(DEMO_ADMIN.email, DEMO_ADMIN.password)
  await accounts.register(DEMO_CUSTOMER).catch((e) => {
    if (e?.code !== 'email_taken') throw e
  })
  return { admin: DEMO_ADMIN.email, customer: DEMO_CUSTOMER.email }
}
