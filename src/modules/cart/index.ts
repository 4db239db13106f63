// The cart module's face: what other modules and the app may use (checkout reads and empties the cart).
export { CartService, availableOf, cartLines, cartsOf, clearCart, clearCarts, type CartLine } from './service'
export { cartRoutes } from './routes'
