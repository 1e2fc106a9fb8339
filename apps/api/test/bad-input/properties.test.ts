import fc from 'fast-check'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildGroqTestApp, type GroqTestApp } from '../helpers/app.js'
import { freshAddress, NO_RATE_LIMITS, signUp } from '../helpers/bad-input.js'
import { multipart } from '../helpers/documents.js'
import { makePdf } from '../helpers/pdf-fixtures.js'

// Property-based tests over the request schemas: arbitrary JSON values in every body field of the
// auth routes, /ask, /feedback, /voice/preferences, /speak and the document metadata, arbitrary
// top-level bodies, and arbitrary (unicode, lone surrogates, NUL, %-escapes) path and query values.
// Whatever comes in, the answer is JSON and below 500.

const RUNS = 100
/** Every UTF-16 code unit, lone surrogates and NUL included. */
const anyCodeUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 80 })
/** Short strings rich in the characters that matter here: quotes, %, dots, slashes, NUL, RTL, combining marks. */
const trickyString = fc.oneof(
  anyCodeUnits,
  fc.string({ unit: fc.constantFrom("'", '"', '%', '.', '/', '\\', '\u0000', '\u202e', '\u0301', ';', '-', '*', 'a', '@', ' ', '🦄'), maxLength: 60 }),
  fc.constantFrom('', ' ', 'DELETE', 'auto', 'azure', 'secret12', "' OR 1=1 --", '../../etc/passwd', '%00', 'x'.repeat(400))
)
/** Any JSON value, with tricky strings inside. */
const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: trickyString },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, 0, -1, 1, 1.5, 1e308, -0, Number.MAX_SAFE_INTEGER + 2) }
)

function bodyOf (fields: string[]): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(Object.fromEntries(fields.map((f) => [f, anyJson])), { requiredKeys: [] })
}

describe('property-based: any value in any field gets a JSON answer below 500', () => {
  let t: GroqTestApp
  let token: string
  let documentId: string

  beforeAll(async () => {
    t = await buildGroqTestApp({ label: 'bad_props', env: { ...NO_RATE_LIMITS, ESPEAK_NG_PATH: '' } })
    token = (await signUp(t.app, 'props@example.com')).token
    const form = multipart({ filename: 'facts.pdf', data: await makePdf({ pages: ['The lighthouse lamp is trimmed at dusk.', 'The orchard is irrigated on Tuesday.'] }) })
    expect((await t.app.inject({ method: 'POST', url: '/upload', headers: { authorization: `Bearer ${token}`, ...form.headers }, payload: form.payload })).json()).toMatchObject({ success: true })
    documentId = ((await t.app.inject({ url: '/documents', headers: { authorization: `Bearer ${token}` } })).json() as { documents: Array<{ id: string }> }).documents[0]!.id
  }, 60_000)

  afterAll(async () => { await t?.close() })

  async function send (options: InjectOptions, authed: boolean): Promise<LightMyRequestResponse> {
    const headers = { ...(authed ? { authorization: `Bearer ${token}` } : {}), ...options.headers }
    const res = await t.app.inject({ remoteAddress: freshAddress(), ...options, headers })
    const where = `${options.method ?? 'GET'} ${options.url as string} ${typeof options.payload === 'string' ? options.payload.slice(0, 200) : JSON.stringify(options.payload)?.slice(0, 200)}`
    expect(res.statusCode, `${where} -> ${res.body.slice(0, 300)}`).toBeLessThan(500)
    if (options.method !== 'HEAD' && res.statusCode !== 304) {
      expect(res.headers['content-type'], where).toMatch(/^application\/json/)
      const body = res.json() as { success?: unknown, error?: unknown }
      if (res.statusCode >= 400) expect(body.success === false || typeof body.error === 'string', `${where} -> ${res.body}`).toBe(true)
    }
    return res
  }

  const jsonRoutes: Array<{ method: 'POST' | 'PUT' | 'DELETE', url: () => string, fields: string[], authed: boolean }> = [
    { method: 'POST', url: () => '/auth/signup', fields: ['email', 'password', 'role', 'institution', 'occupation'], authed: false },
    { method: 'POST', url: () => '/auth/login', fields: ['email', 'password'], authed: false },
    { method: 'POST', url: () => '/auth/forgot-password', fields: ['email'], authed: false },
    { method: 'POST', url: () => '/auth/reset-password', fields: ['token', 'password'], authed: false },
    { method: 'POST', url: () => '/auth/change-password', fields: ['current_password', 'new_password'], authed: true },
    { method: 'POST', url: () => '/auth/change-email', fields: ['new_email', 'password'], authed: true },
    { method: 'DELETE', url: () => '/auth/delete-account', fields: ['password', 'confirmation'], authed: true },
    { method: 'POST', url: () => '/ask', fields: ['question', 'document_name', 'language'], authed: true },
    { method: 'POST', url: () => '/feedback', fields: ['message_id', 'query', 'response', 'rating', 'comment'], authed: true },
    { method: 'PUT', url: () => '/voice/preferences', fields: ['engine_preference', 'language_preference'], authed: true },
    { method: 'POST', url: () => '/speak', fields: ['text', 'language', 'engine'], authed: true },
    { method: 'PUT', url: () => `/documents/${documentId}/metadata`, fields: ['category', 'tags', 'description'], authed: true }
  ]

  for (const route of jsonRoutes) {
    it(`${route.method} ${route.url().replace(/\/documents\/[^/]*\//, '/documents/:id/')}: arbitrary values for ${route.fields.join(', ')}`, { timeout: 30_000 }, async () => {
      await fc.assert(fc.asyncProperty(bodyOf(route.fields), async (body) => {
        await send({ method: route.method, url: route.url(), payload: body as object }, route.authed)
      }), { numRuns: RUNS })
    })
  }

  it('every JSON route: arbitrary top-level bodies, raw or as JSON', { timeout: 30_000 }, async () => {
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(...jsonRoutes),
      fc.oneof(anyJson.map((v) => JSON.stringify(v) ?? 'null'), anyCodeUnits, fc.constantFrom('{', '[', '{"a":', '\uFEFF{}', '{"__proto__":{}}')),
      async (route, raw) => {
        await send({ method: route.method, url: route.url(), headers: { 'content-type': 'application/json' }, payload: raw }, route.authed)
      }), { numRuns: RUNS * 2 })
  })

  it('every string field of every JSON body schema in the route table: any other type is a 400', { timeout: 30_000 }, async () => {
    const stringFields = t.routes.flatMap((route) => {
      const properties = (route.schema?.body as { properties?: Record<string, { type?: unknown }> } | undefined)?.properties ?? {}
      const authenticated = [route.preParsing ?? []].flat().includes(t.app.authenticate as never)
      return [route.method].flat().flatMap((method) => Object.entries(properties)
        .filter(([, schema]) => schema.type === 'string')
        .map(([field]) => ({ method: method as 'POST' | 'PUT' | 'DELETE', url: route.url.replace(':document_id', documentId), field, authenticated })))
    })
    // The auth routes, /ask, /speak and the document metadata: 24 fields today.
    expect(stringFields.length).toBeGreaterThanOrEqual(20)
    const notString = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.array(anyJson, { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), anyJson, { maxKeys: 3 }))
    await fc.assert(fc.asyncProperty(fc.constantFrom(...stringFields), notString, async ({ method, url, field, authenticated }, value) => {
      const res = await send({ method, url, payload: { [field]: value } }, authenticated)
      expect([method, url, field, res.statusCode, res.json()]).toEqual([method, url, field, 400, { success: false, message: `body/${field} must be string` }])
    }), { numRuns: RUNS * 2 })
  })

  it('DELETE /documents/:name and GET|HEAD /audio/:filename: arbitrary (encoded) names', { timeout: 30_000 }, async () => {
    const encoded = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 80 }).map(encodeURIComponent),
      fc.string({ unit: fc.constantFrom('%2F', '%2e', '%252F', '..', '%00', '%E0%A4', '%', 'a', '.wav', '~', '%5C'), maxLength: 20 })
    )
    await fc.assert(fc.asyncProperty(encoded, fc.constantFrom('DELETE /documents/', 'GET /audio/', 'HEAD /audio/'), async (name, target) => {
      const [method, prefix] = target.split(' ') as ['DELETE' | 'GET' | 'HEAD', string]
      await send({ method, url: `${prefix}${name}` }, method === 'DELETE')
    }), { numRuns: RUNS * 2 })
  })

  it('GET /documents/search: arbitrary query strings', { timeout: 30_000 }, async () => {
    const value = fc.string({ unit: 'binary', maxLength: 60 }).map(encodeURIComponent)
    await fc.assert(fc.asyncProperty(fc.dictionary(fc.constantFrom('q', 'category', 'tags', 'q[]', 'tags[0]', 'x'), value, { maxKeys: 4 }), async (query) => {
      const qs = Object.entries(query).map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join('&')
      await send({ method: 'GET', url: `/documents/search?${qs}` }, true)
    }), { numRuns: RUNS })
  })

  it('still answers /health after every property', async () => {
    expect((await t.app.inject({ url: '/health/ready' })).statusCode).toBe(200)
  })
})
