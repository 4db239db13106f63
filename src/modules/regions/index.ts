// The regions module's face: what other modules and the app may use.
export { RegionsService, liveRegion, type HasProducts } from './service'
export { regionsRoutes } from './routes'
export { regionTerms } from './reads'
export type { RegionDto } from './model'
