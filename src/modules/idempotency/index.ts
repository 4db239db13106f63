export { Idempotency, type IdempotentRequest, type StoredResponse } from './service'
