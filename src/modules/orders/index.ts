// The orders module's face: what other modules and the app may use. Orders are placed and
// moved only through `OrderLifecycle`; other modules read them through `orderTerms`.
export { OrdersService, eraseOrderPersonalData } from './service'
export { ordersRoutes } from './routes'
export { OrderLifecycle } from './lifecycle'
export { ORDER_STATUS_CHANNEL, PAYMENT_CHECK_JOB, type OrderChange, type OrderMoves, type OrderStatusEvent, type ReleasedOrder, type Transition } from './lifecycle-types'
export { OrderTracking } from './tracking'
export { IdempotencyHeaders, OrderParams } from './model'
export { orderTerms } from './reads'
