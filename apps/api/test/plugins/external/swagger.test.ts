import { Validator } from '@seriousme/openapi-schema-validator'
import type { RouteOptions } from 'fastify'
import { AjvCompiler } from '@fastify/ajv-compiler'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BEARER_SCHEME, DOCS_CSP, DOCS_PREFIX, withoutNullable } from '../../../src/plugins/external/swagger.js'
import { Nullable, OptionalString } from '../../../src/schemas/common.js'
import { buildTestApp, type TestApp } from '../../helpers/app.js'

interface Operation {
  responses: Record<string, unknown>
  tags?: string[]
  security?: Array<Record<string, string[]>>
}
interface OpenApiDocument {
  openapi: string
  paths: Record<string, Record<string, Operation>>
  components: { securitySchemes: Record<string, unknown> }
}

const normalize = (url: string): string => url.length > 1 ? url.replace(/\/$/, '') : url
const isDocsRoute = (url: string): boolean => url === DOCS_PREFIX || url.startsWith(`${DOCS_PREFIX}/`)

/**
 * Every route of the app but the documentation's own, CORS's `OPTIONS *` and the HEAD routes Fastify
 * adds beside a GET (as in test/routes/route-files.test.ts), with what the document must say of it.
 */
function documentedRoutes (t: TestApp): Array<{ method: string, path: string, statuses: string[], authenticated: boolean }> {
  const routes = t.routes.flatMap((route: RouteOptions) => [route.method].flat().map((method) => ({ method, route })))
  const autoHead = new Set(routes.filter(({ method, route }) => method === 'GET' && route.exposeHeadRoute !== false).map(({ route }) => normalize(route.url)))
  const seen = new Set<string>()
  const out = []
  for (const { method, route } of routes) {
    const url = normalize(route.url)
    if (method === 'OPTIONS' || isDocsRoute(url) || (method === 'HEAD' && autoHead.has(url))) continue
    const key = `${method} ${url}`
    if (seen.has(key)) continue
    seen.add(key)
    const preParsing = route.preParsing === undefined ? [] : [route.preParsing].flat()
    const response = (route.schema as { response?: Record<string, unknown> } | undefined)?.response
    out.push({
      method,
      path: url.replace(/:([A-Za-z0-9_]+)/g, '{$1}'),
      statuses: Object.keys(response ?? {}).sort(),
      authenticated: preParsing.includes(t.app.authenticate as never)
    })
  }
  return out
}

describe('OpenAPI document and Swagger UI', () => {
  let t: TestApp
  let document: OpenApiDocument
  beforeAll(async () => {
    t = await buildTestApp({ label: 'swagger', redis: false })
    const res = await t.app.inject({ url: `${DOCS_PREFIX}/json` })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    document = res.json()
  })
  afterAll(async () => { await t.close() })

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toBe('3.1.0')
    const validator = new Validator()
    const result = await validator.validate(document as never)
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
    expect(validator.version).toBe('3.1')
    // OpenAPI 3.0's keyword, which JSON Schema 2020-12 does not know: turned into null types.
    expect(JSON.stringify(document)).not.toMatch(/"nullable":/)
  })

  it('documents every route with its method, path and every status its schema declares', () => {
    const routes = documentedRoutes(t)
    // 35 today, as in the README's URL → file table; fewer would mean the route table was not collected.
    expect(routes.length).toBeGreaterThanOrEqual(35)
    for (const { method, path, statuses } of routes) {
      const operation = document.paths[path]?.[method.toLowerCase()]
      expect(operation, `${method} ${path}`).toBeDefined()
      expect(Object.keys(operation!.responses).sort(), `${method} ${path}`).toEqual(statuses.length > 0 ? statuses : ['200'])
    }
    // And nothing else: the documentation's own routes are hidden.
    const operations = Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
    expect(operations.sort()).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort())
  })

  it('marks the routes that need a token with the bearer scheme, and tags each by its URL', () => {
    expect(document.components.securitySchemes[BEARER_SCHEME]).toEqual({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    const routes = documentedRoutes(t)
    expect(routes.filter((r) => r.authenticated).length).toBeGreaterThan(20)
    for (const { method, path, authenticated } of routes) {
      const operation = document.paths[path]![method.toLowerCase()]!
      expect(operation.security, `${method} ${path}`).toEqual(authenticated ? [{ [BEARER_SCHEME]: [] }] : undefined)
      expect(operation.tags, `${method} ${path}`).toEqual([path.split('/')[1]])
    }
  })

  it('serves Swagger UI from the package\'s own files, under a CSP of its own', async () => {
    for (const url of [DOCS_PREFIX, `${DOCS_PREFIX}/`]) {
      const page = await t.app.inject({ url })
      expect(page.statusCode, url).toBe(200)
      expect(page.headers['content-type'], url).toMatch(/^text\/html/)
      expect(page.headers['content-security-policy'], url).toBe(DOCS_CSP)
      expect(page.body, url).toMatch(/<div id="swagger-ui">/)
      // Every script and stylesheet it names is served here, as a file of the right type.
      const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => new URL(m[1]!, `http://localhost${url}`).pathname)
      expect(assets.length, url).toBeGreaterThanOrEqual(5)
      for (const asset of assets) {
        expect(asset.startsWith(`${DOCS_PREFIX}/static/`), asset).toBe(true)
        const res = await t.app.inject({ url: asset })
        expect(res.statusCode, asset).toBe(200)
        if (asset.endsWith('.js')) expect(res.headers['content-type'], asset).toMatch(/javascript/)
        if (asset.endsWith('.css')) expect(res.headers['content-type'], asset).toMatch(/^text\/css/)
      }
      // No inline script or style for the CSP to refuse.
      expect(page.body, url).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle="/)
    }
    const initializer = await t.app.inject({ url: `${DOCS_PREFIX}/static/swagger-initializer.js` })
    expect(initializer.body).toMatch(/validatorUrl: null/)
    // The API's other answers keep sending no CSP.
    expect((await t.app.inject({ url: '/health' })).headers['content-security-policy']).toBeUndefined()
  })

  it('limits the documentation like every other GET route', async () => {
    const res = await t.app.inject({ url: `${DOCS_PREFIX}/json`, remoteAddress: '192.0.2.77' })
    expect(res.headers['x-ratelimit-limit']).toBe('50')
  })
})

describe('API_DOCS=off', () => {
  let t: TestApp
  beforeAll(async () => { t = await buildTestApp({ label: 'swagger_off', redis: false, env: { API_DOCS: 'off' } }) })
  afterAll(async () => { await t.close() })

  it('answers /docs and /docs/json like any unknown route', async () => {
    for (const url of [DOCS_PREFIX, `${DOCS_PREFIX}/json`, `${DOCS_PREFIX}/static/swagger-ui.css`]) {
      const res = await t.app.inject({ url })
      expect(res.statusCode, url).toBe(404)
      expect(res.json(), url).toEqual({ success: false, message: `Route GET ${url} not found` })
    }
    expect(t.routes.some((route) => isDocsRoute(route.url))).toBe(false)
  })
})

describe('withoutNullable', () => {
  it('says null with JSON Schema types, accepting exactly what Ajv accepted with `nullable`', () => {
    // The app's own Ajv (app.ts), which knows `nullable`.
    const compile = (schema: object) => AjvCompiler()({}, { customOptions: { allowUnionTypes: true } })({ schema, method: 'POST', url: '/', httpPart: 'body' })
    const cases = [
      Nullable({ type: 'string' } as never),
      OptionalString,
      { type: 'object', properties: { nullable: { type: 'boolean', nullable: true }, n: { type: 'integer', nullable: true, enum: [1, 2, null] }, e: { type: 'integer', nullable: true, enum: [1, 2] } } },
      { type: ['string', 'number'], nullable: true },
      { type: 'string', const: 'x', nullable: true }
    ]
    const values = [null, 'x', 'y', 1, 2, 3, true, {}, { nullable: null }, { nullable: 'no' }, { n: null }, { n: 1 }, { n: 3 }, { e: null }, { e: 1 }]
    for (const schema of cases) {
      const converted = withoutNullable(schema) as object
      expect(JSON.stringify(converted)).not.toMatch(/"nullable":(true|false)/)
      const before = compile(schema as object)
      const after = compile(converted)
      for (const value of values) expect(after(value), `${JSON.stringify(schema)} ${JSON.stringify(value)}`).toBe(before(value))
    }
  })
})
