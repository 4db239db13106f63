// The catalog module's face: what other modules and the app may use. Catalog owns products
// and their stock: every stock change goes through `moveStock`, which writes its ledger row.
export { CatalogService } from './service'
export { catalogRoutes } from './routes'
export { ProductTypes, defaultProductTypes, type Attributes, type ProductType } from './types'
export { moveStock, moveStocks, stockMovementsOf, stockOf, type StockMove, type StockMovement } from './ledger'
export { productTerms, regionHasProducts } from './reads'
export type { StockReason } from './schema'
