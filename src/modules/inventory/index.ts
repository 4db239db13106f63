// The inventory module's face: purchases and stock adjustments (the stock itself is the catalog's).
export { InventoryService } from './service'
export { inventoryRoutes } from './routes'
