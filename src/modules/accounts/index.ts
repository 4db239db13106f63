// The accounts module's face: what other modules and the app may use.
export { AccountsService } from './service'
export { argon2id, type PasswordHashing } from './passwords'
export { TOKEN_PATH, accountsRoutes } from './routes'
export { RevokedAccounts } from './revocations'
export { checkAddress, openAddress, sealAddress } from './address'
export { accountIdsByEmail, contactsOf, erasedAccountIds, someAccountIds } from './contacts'
export { Address, type AddressInput } from './model'
