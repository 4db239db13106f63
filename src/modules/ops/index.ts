// The ops module's face: health, readiness and metrics routes.
export { opsRoutes, type Probe } from './routes'
