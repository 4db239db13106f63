// The accounts module's face: what other modules and the app may use.
export { AccountsService, argon2id, type PasswordHashing } from './service'
export { accountsRoutes } from './routes'
export { RevokedAccounts } from './revocations'
export { checkAddress, openAddress, sealAddress } from './address'
export { contactsOf } from './contacts'
export { Address, type AddressInput } from './model'
