// The payments module's face: what the app may use (no other module calls payments).
export { PaymentsService } from './service'
export { WEBHOOK_PATH, paymentsRoutes } from './routes'
export { FakeGateway, WEBHOOK_DELIVERY_JOB } from './fake-gateway'
export { REFUND_JOB, VOID_JOB } from './settlement'
