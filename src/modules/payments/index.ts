// The payments module's face: what the app may use (no other module calls payments).
export { PaymentsService } from './service'
export { WEBHOOK_PATH, paymentsRoutes } from './routes'
export { FakeGateway } from './fake-gateway'
