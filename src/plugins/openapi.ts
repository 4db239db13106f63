import { toOpenAPISchema } from '@elysiajs/openapi'
import type { AnyElysia } from 'elysia'
import { MEDIA_TYPE, Problem, PROBLEM_MEDIA_TYPE, Unavailable } from '../lib/models'
import type { RateLimitClass } from './rate-limit'

type Schema = Record<string, unknown> & { examples?: unknown[] }
interface Media {
  schema?: Schema
  example?: unknown
}
interface Answer {
  description?: string
  content?: Record<string, Media>
}
interface Operation {
  requestBody?: { content: Record<string, Media> }
  responses?: Record<string, Answer>
  parameters?: unknown[]
  security?: unknown[]
}
type Route = { method: string; path: string; hooks: Record<string, unknown> }

export interface DocumentOptions {
  info: { title: string; version: string; description: string }
  /** In the order Swagger lists them. */
  tags: { name: string; description: string }[]
  securitySchemes: Record<string, unknown>
  /** The media types the body parser takes at a route template (see body-parsing.ts). */
  bodyTypesOf(route: string): string[]
}

// A JSON copy (symbols, TypeBox's own keys, are left behind) without the media-type marker.
const { [MEDIA_TYPE]: _mediaType, ...PROBLEM_SCHEMA } = structuredClone(Problem) as Schema

/** What the edge answers for any route of a given shape, before its handler runs. */
const problem = (description: string): Answer => ({ description, content: { [PROBLEM_MEDIA_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } } })
const EDGE = {
  body: {
    413: problem('`payload_too_large`: the body is over its limit (64 KiB for JSON; 5 MB for images)'),
    415: problem('`unsupported_media_type`: send the body with the Content-Type this operation takes'),
    422: problem('`validation_failed`: `errors` names each field that is wrong'),
  },
  json: { 400: problem('`malformed_json`: the body is not valid JSON') },
  input: { 422: problem('`validation_failed`: `errors` names each parameter that is wrong') },
  secured: { 401: problem('`unauthorized`: no access token, or one that is invalid, expired or of an erased account (`WWW-Authenticate: Bearer`)') },
  limited: { 429: problem('`rate_limited`: too many requests; retry after `Retry-After` seconds (`RateLimit-*` headers say how many are left)') },
  writes: { 503: problem(String(Unavailable.description)) },
}

const REASONS: Record<string, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No content' }

/** Moves every answer to the media type its schema declares, and drops the marker. */
function placeMediaTypes(responses: Record<string, Answer>) {
  for (const [status, answer] of Object.entries(responses)) {
    // The generator's stand-in for an answer whose model has no description.
    if (String(answer.description).startsWith('Response for status')) answer.description = REASONS[status] ?? 'OK'
    const content = answer.content ?? {}
    const [type, media] = Object.entries(content)[0] ?? []
    if (!type || !media) continue
    // The generator writes a void schema (204) as content; such an answer has none.
    if (!media.schema) {
      delete answer.content
      continue
    }
    const { [MEDIA_TYPE]: declared, ...schema } = media.schema
    if (typeof declared === 'string') answer.content = { [declared]: { ...media, schema } }
  }
}

/** A body schema's first example becomes the media type's example: what "Try it out" fills in. */
function exampleFirst(content: Record<string, Media>) {
  for (const media of Object.values(content)) {
    const example = media.schema?.examples?.[0]
    if (example !== undefined && media.example === undefined) media.example = example
  }
}

/**
 * The OpenAPI document of `app`'s routes. The framework's generator writes a request body's
 * media types from the route's parse hooks, and reads only named ones: the body parser here is
 * one function (limits, 415), so it is described to the generator by the media types it takes
 * at each route. Then each answer gets the media type its model declares (problem+json, event
 * streams, images), and each route the answers the edge gives for its shape (401, 413, 415,
 * 422, 429; 503 where it writes).
 */
export function openapiDocument(app: AnyElysia, options: DocumentOptions) {
  const routes = (app as unknown as { getGlobalRoutes(): Route[] }).getGlobalRoutes()
  const described = routes.map((route) => ({ ...route, hooks: { ...route.hooks, parse: options.bodyTypesOf(route.path).map((fn) => ({ fn })) } }))
  const exempt = new Set(routes.filter((route) => (route.hooks as { rateLimit?: RateLimitClass }).rateLimit === 'exempt').map((route) => `${route.method.toLowerCase()} ${route.path}`))
  const view = { getGlobalRoutes: () => described, getGlobalDefinitions: () => ({ type: {} }) } as unknown as AnyElysia
  const { paths } = structuredClone(toOpenAPISchema(view)) as unknown as { paths: Record<string, Record<string, Operation>> }
  const template = (path: string) => path.replace(/\{([^}]+)\}/g, ':$1')
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const responses = (operation.responses ??= {})
      placeMediaTypes(responses)
      const edge: Record<string, Answer> = {}
      if (operation.requestBody) exampleFirst(operation.requestBody.content)
      // A route that reads its own bytes (the webhook) says itself what it refuses.
      const bodyTypes = operation.requestBody ? options.bodyTypesOf(template(path)) : []
      if (bodyTypes.length) Object.assign(edge, EDGE.body, bodyTypes.includes('application/json') ? EDGE.json : {})
      if (operation.parameters?.length) Object.assign(edge, EDGE.input)
      if (operation.security?.length) Object.assign(edge, EDGE.secured)
      if (!exempt.has(`${method} ${template(path)}`)) Object.assign(edge, EDGE.limited)
      if (method !== 'get') Object.assign(edge, EDGE.writes)
      for (const [status, answer] of Object.entries(edge)) responses[status] ??= answer
    }
  }
  return {
    openapi: '3.1.0',
    info: options.info,
    tags: options.tags,
    paths,
    components: { schemas: { Problem: PROBLEM_SCHEMA }, securitySchemes: options.securitySchemes },
  }
}
