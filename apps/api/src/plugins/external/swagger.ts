import { readFileSync } from 'node:fs'
import fastifySwagger, { type SwaggerTransformObject } from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import type { RouteOptions } from 'fastify'
import fp from 'fastify-plugin'

/** Where the browsable documentation lives; its OpenAPI document is `${DOCS_PREFIX}/json`. */
export const DOCS_PREFIX = '/docs'

/** The name of the bearer scheme in `components.securitySchemes`. */
export const BEARER_SCHEME = 'bearerAuth'

/**
 * Swagger UI is three of the package's own scripts and two stylesheets, with no inline script or
 * style element, and fetches nothing but the document beside it (no validator badge: `validatorUrl`
 * stays null). The rest of the API serves JSON and sends no CSP; these pages get one.
 */
export const DOCS_CSP = [
  "default-src 'self'",
  "base-uri 'self'",
  "connect-src 'self'",
  "font-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self'"
].join('; ')

const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }

/**
 * The schemas say `nullable: true` (OpenAPI 3.0's keyword, which Ajv knows: see `Nullable` in
 * schemas/common.ts), which OpenAPI 3.1's JSON Schema does not have: the document says the same
 * with a `null` type instead. Only the published copy changes; validation keeps its schemas.
 */
export function withoutNullable (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNullable)
  if (value === null || typeof value !== 'object') return value
  const { nullable, ...rest } = value as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const [key, child] of Object.entries(rest)) out[key] = withoutNullable(child)
  if (nullable !== true) {
    // `nullable: false` says nothing; a property called `nullable` (its value a schema) stays.
    if (nullable !== null && typeof nullable === 'object') out.nullable = withoutNullable(nullable)
    return out
  }
  // Ajv reads `nullable` as one more type and nothing else (an `enum` or `const` beside it still
  // refuses null), which is what a `null` type says. Ajv refuses `nullable` without `type`; should
  // such a schema come, an anyOf says the same.
  if (typeof out.type !== 'string' && !Array.isArray(out.type)) return { anyOf: [out, { type: 'null' }] }
  const types: unknown[] = [out.type].flat()
  if (!types.includes('null')) out.type = [...types, 'null']
  return out
}

/**
 * A prefixed plugin's '/' is `/documents/`; Fastify answers `/documents` too, which is how the README
 * and the clients write it.
 */
function withoutTrailingSlash (url: string): string {
  return url.length > 1 ? url.replace(/\/$/, '') : url
}

/** `/documents/:document_id/metadata` → `documents`; `/user/stats` → `user`. */
function tagOf (url: string): string | undefined {
  return url.split('/')[1] || undefined
}

/**
 * The OpenAPI 3.1 document of every route, from the routes' own TypeBox schemas, at `GET /docs/json`,
 * and Swagger UI at `/docs` (the package's static files; nothing is fetched from elsewhere). Registered
 * before the routes, whose onRoute it records; after the rate limit policy, so its pages are limited
 * like every other GET route.
 */
export default fp(async (fastify) => {
  // Fastify adds a HEAD beside every GET (exposeHeadRoute), which the document leaves out; a HEAD a
  // route file declares itself (/audio/:filename) has its own responses and is documented.
  const autoHeadUrls = new Set<string>()
  fastify.addHook('onRoute', (route: RouteOptions) => {
    const methods = [route.method].flat()
    if (methods.includes('GET') && route.exposeHeadRoute !== false) autoHeadUrls.add(withoutTrailingSlash(route.url))
    if (methods.length === 1 && methods[0] === 'HEAD' && !autoHeadUrls.has(withoutTrailingSlash(route.url))) {
      route.config = { ...route.config, swagger: { ...route.config?.swagger, exposeHeadRoute: true } }
    }
  })

  await fastify.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'DocuMind Voice API',
        description: 'Chat with your PDFs by text or voice. Routes that need a login take the token of `POST /auth/login` or `POST /auth/signup` as `Authorization: Bearer <token>`. Routes are rate-limited per client address (see the README); over a limit a route answers `429 {success:false, message}` with `Retry-After`.',
        version
      },
      components: {
        securitySchemes: {
          [BEARER_SCHEME]: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }
        }
      }
    },
    transform ({ schema, url, route }) {
      const preParsing = route.preParsing === undefined ? [] : [route.preParsing].flat()
      const authenticated = preParsing.includes(fastify.authenticate as never)
      const tag = tagOf(url)
      return {
        url: withoutTrailingSlash(url),
        schema: {
          ...schema,
          ...(schema?.tags === undefined && tag !== undefined ? { tags: [tag] } : {}),
          ...(authenticated ? { security: [{ [BEARER_SCHEME]: [] }] } : {})
        }
      }
    },
    transformObject (document) {
      return withoutNullable('openapiObject' in document ? document.openapiObject : document.swaggerObject) as ReturnType<SwaggerTransformObject>
    }
  })

  await fastify.register(fastifySwaggerUi, {
    routePrefix: DOCS_PREFIX,
    staticCSP: DOCS_CSP
  })
}, { name: 'swagger', dependencies: ['rate-limit-policy', 'authenticate'] })
