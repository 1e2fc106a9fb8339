import type { InjectOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { STORE_UNAVAILABLE_MESSAGE } from '../../../../src/plugins/app/limits/rate-limit-policy.js'
import { buildTestApp, type TestApp } from '../../../helpers/app.js'
import { OwnRedis } from '../../../helpers/redis-server.js'

let nextEmail = 0
const email = (): string => `user${nextEmail++}@example.com`

async function signupFrom (t: TestApp, remoteAddress: string, headers: Record<string, string> = {}) {
  return await t.app.inject({ method: 'POST', url: '/auth/signup', payload: { email: email(), password: 'secret12' }, remoteAddress, headers })
}

describe.each([
  { store: 'redis', redis: true },
  { store: 'postgres', redis: false }
])('rate limits with the $store store', ({ store, redis }) => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ label: `limits_${store}`, redis, env: { RATE_LIMIT_DEFAULT: '4 per minute; 6 per hour' } })
  })
  afterAll(async () => { await t.close() })

  it('counts in the expected store', async () => {
    expect((await signupFrom(t, '192.0.2.250')).statusCode).toBe(200)
    const counters = redis
      ? (await t.app.redis!.keys(`${t.app.config.redisKeyPrefix}rl:*`)).length
      : Number((await t.app.pg.query<{ n: string }>('SELECT count(*) AS n FROM rate_limit_counters')).rows[0]!.n)
    expect(counters).toBeGreaterThan(0)
  })

  it('lets 3 signups per hour through from one address, then answers 429 JSON with Retry-After', async () => {
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push(await signupFrom(t, '192.0.2.1'))
    expect(statuses.map((r) => r.statusCode)).toEqual([200, 200, 200, 429])
    expect(statuses[0]!.headers['x-ratelimit-limit']).toBe('3')
    expect(statuses[0]!.headers['x-ratelimit-remaining']).toBe('2')
    const limited = statuses[3]!
    expect(limited.headers['content-type']).toMatch(/application\/json/)
    expect(limited.json()).toEqual({ success: false, message: expect.stringMatching(/^Too many requests: 3 per 1 hour\. Try again in \d+ seconds\.$/) })
    const retryAfter = Number(limited.headers['retry-after'])
    expect(retryAfter).toBeGreaterThan(3500)
    expect(retryAfter).toBeLessThanOrEqual(3600)
    expect(limited.headers['x-ratelimit-remaining']).toBe('0')
    // Another address has its own bucket.
    expect((await signupFrom(t, '192.0.2.2')).statusCode).toBe(200)
  })

  it('counts exactly under concurrency: 3 of 10 parallel signups pass', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, async () => await signupFrom(t, '192.0.2.3')))
    const codes = results.map((r) => r.statusCode).sort()
    expect(codes.filter((c) => c === 200)).toHaveLength(3)
    expect(codes.filter((c) => c === 429)).toHaveLength(7)
  })

  it('never counts OPTIONS and never limits /health', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await t.app.inject({ method: 'OPTIONS', url: '/auth/signup', remoteAddress: '192.0.2.4', headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' } })
      expect(res.statusCode).toBe(204)
    }
    expect((await signupFrom(t, '192.0.2.4')).statusCode).toBe(200)
    for (let i = 0; i < 60; i++) {
      expect((await t.app.inject({ url: '/health', remoteAddress: '192.0.2.4' })).statusCode).toBe(200)
    }
  })

  it('applies the default limits per route and address, on every window', async () => {
    const signed = (await signupFrom(t, '192.0.2.5')).json()
    const me = async (ip: string) => await t.app.inject({ url: '/auth/me', remoteAddress: ip, headers: { authorization: `Bearer ${signed.token}` } })
    const codes = []
    for (let i = 0; i < 5; i++) codes.push((await me('192.0.2.5')).statusCode)
    expect(codes).toEqual([200, 200, 200, 200, 429])
    // The per-minute window was the one exceeded; the message names it.
    expect((await me('192.0.2.5')).json().message).toMatch(/4 per 1 minute/)
    // Another route keeps its own bucket.
    const del = await t.app.inject({ method: 'DELETE', url: '/auth/delete-account', remoteAddress: '192.0.2.5', headers: { authorization: `Bearer ${signed.token}` }, payload: {} })
    expect(del.statusCode).toBe(400)
  })

  it('counts change-password only after authentication', async () => {
    for (let i = 0; i < 15; i++) {
      const res = await t.app.inject({ method: 'POST', url: '/auth/change-password', remoteAddress: '192.0.2.6', payload: {} })
      expect(res.statusCode).toBe(401)
    }
    const { token } = (await signupFrom(t, '192.0.2.6')).json()
    const codes = []
    for (let i = 0; i < 11; i++) {
      codes.push((await t.app.inject({ method: 'POST', url: '/auth/change-password', remoteAddress: '192.0.2.6', headers: { authorization: `Bearer ${token}` }, payload: {} })).statusCode)
    }
    expect(codes).toEqual([...Array(10).fill(400), 429])
  })

  it('ignores X-Forwarded-For from a client that is not a trusted proxy', async () => {
    const codes = []
    for (let i = 0; i < 4; i++) codes.push((await signupFrom(t, '192.0.2.7', { 'x-forwarded-for': `198.51.100.${i}` })).statusCode)
    expect(codes).toEqual([200, 200, 200, 429])
  })
})

describe('rate limits behind a trusted proxy', () => {
  let t: TestApp
  beforeAll(async () => { t = await buildTestApp({ label: 'limits_proxy', env: { TRUST_PROXY: '203.0.113.10' } }) })
  afterAll(async () => { await t.close() })

  it('keys on X-Forwarded-For only when the request comes from the trusted proxy', async () => {
    // Through the proxy, each end client has its own bucket.
    for (let client = 1; client <= 2; client++) {
      const codes = []
      for (let i = 0; i < 4; i++) codes.push((await signupFrom(t, '203.0.113.10', { 'x-forwarded-for': `198.51.100.${client}` })).statusCode)
      expect(codes).toEqual([200, 200, 200, 429])
    }
    // A client spoofing the header directly is keyed on its own address.
    const spoofed = []
    for (let i = 0; i < 4; i++) spoofed.push((await signupFrom(t, '192.0.2.99', { 'x-forwarded-for': `198.51.100.${50 + i}` })).statusCode)
    expect(spoofed).toEqual([200, 200, 200, 429])
  })
})

describe('Redis outage', () => {
  let redis: OwnRedis
  let t: TestApp
  let token: string
  beforeAll(async () => {
    redis = await OwnRedis.start()
    t = await buildTestApp({ label: 'limits_outage', env: { REDIS_URL: redis.url } })
    token = (await signupFrom(t, '192.0.2.20')).json().token
  })
  afterAll(async () => {
    await t.close()
    await redis.kill()
  })

  async function timed (request: InjectOptions) {
    const started = performance.now()
    const res = await t.app.inject(request)
    return { res, ms: performance.now() - started }
  }
  const login = { method: 'POST' as const, url: '/auth/login', payload: { email: 'nobody@example.com', password: 'whatever1' }, remoteAddress: '192.0.2.21' }
  const me = () => ({ url: '/auth/me', remoteAddress: '192.0.2.22', headers: { authorization: `Bearer ${token}` } })

  it('fails closed on credential routes and open elsewhere, within a second, then recovers by itself', async () => {
    expect((await timed(login)).res.statusCode).toBe(401)

    await redis.kill()
    const closed = await timed(login)
    expect(closed.res.statusCode).toBe(503)
    expect(closed.res.json()).toEqual({ success: false, message: STORE_UNAVAILABLE_MESSAGE })
    expect(closed.res.headers['retry-after']).toBe('5')
    expect(closed.ms).toBeLessThan(1000)
    const open = await timed(me())
    expect(open.res.statusCode).toBe(200)
    expect(open.ms).toBeLessThan(1000)
    const health = await t.app.inject({ url: '/health' })
    expect(health.json().components.cache).toMatchObject({ healthy: false, message: 'Redis connection failed' })
    expect((await t.app.inject({ url: '/health/ready' })).statusCode).toBe(503)

    await redis.start()
    const restarted = Date.now()
    let recovered = false
    while (Date.now() - restarted < 5000) {
      if ((await t.app.inject(login)).statusCode === 401) { recovered = true; break }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(recovered).toBe(true)
    expect((await t.app.inject({ url: '/health/ready' })).statusCode).toBe(200)
  })

  it('does not wait on a hung Redis for more than about a second', async () => {
    redis.freeze()
    try {
      const closed = await timed({ ...login, remoteAddress: '192.0.2.23' })
      expect(closed.res.statusCode).toBe(503)
      expect(closed.ms).toBeLessThan(1100)
      const open = await timed(me())
      expect(open.res.statusCode).toBe(200)
      expect(open.ms).toBeLessThan(1100)
      const ready = await timed({ url: '/health/ready' })
      expect(ready.res.statusCode).toBe(503)
      expect(ready.ms).toBeLessThan(1500)
    } finally {
      redis.thaw()
    }
    let recovered = false
    const thawed = Date.now()
    while (Date.now() - thawed < 5000) {
      if ((await t.app.inject({ ...login, remoteAddress: '192.0.2.24' })).statusCode === 401) { recovered = true; break }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(recovered).toBe(true)
  })
})

/** Routes the README documents as exempt from the per-address limits (OPTIONS never counts either). */
const EXEMPT_ROUTES = ['GET /health', 'HEAD /health', 'GET /health/ready', 'HEAD /health/ready', 'GET /audio/:filename', 'HEAD /audio/:filename', 'GET /metrics', 'HEAD /metrics']
/** Routes the README documents as counted after authentication: anonymous calls never reach their bucket. */
const COUNTED_AFTER_AUTH = ['POST /auth/change-password', 'POST /auth/change-email']

describe('every route of the route table answers its limits with 429 JSON and Retry-After', () => {
  let t: TestApp
  let token: string
  let nextClient = 0
  // One address per route and variant, so no bucket is shared between the cases.
  const client = (): string => `198.19.${Math.floor(nextClient / 250)}.${(nextClient++ % 250) + 1}`

  beforeAll(async () => {
    // Every limit is small; the default has two windows, as the real one does.
    t = await buildTestApp({
      label: 'limits_every_route',
      redis: false,
      env: {
        RATE_LIMIT_DEFAULT: '2 per minute; 3 per hour',
        RATE_LIMIT_SIGNUP: '2 per hour',
        RATE_LIMIT_LOGIN: '2 per minute',
        RATE_LIMIT_FORGOT_PASSWORD: '2 per hour',
        RATE_LIMIT_RESET_PASSWORD: '2 per hour',
        RATE_LIMIT_CHANGE_PASSWORD: '2 per hour',
        RATE_LIMIT_CHANGE_EMAIL: '2 per hour',
        RATE_LIMIT_FORGOT_PASSWORD_PER_EMAIL: '1000 per hour',
        QUERY_LIMIT_PER_DAY: '1000',
        ESPEAK_NG_PATH: ''
      }
    })
    token = (await signupFrom(t, client())).json().token
  })
  afterAll(async () => { await t.close() })

  /** Every method and URL of the route table, with whether the route authenticates (its preParsing hooks). */
  function routeTable (): Array<{ method: string, url: string, authenticated: boolean }> {
    return t.routes.flatMap((route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method]
      const preParsing = route.preParsing === undefined ? [] : [route.preParsing].flat()
      return methods.map((method) => ({ method, url: route.url, authenticated: preParsing.includes(t.app.authenticate as never) }))
    })
  }

  function request (method: string, url: string, withToken: boolean): InjectOptions {
    // Path parameters get values that exist nowhere; the CORS plugin's `OPTIONS *` is sent to /ask.
    const path = url.replace(':document_id', '00000000-0000-4000-8000-000000000000').replace(/:[a-z_]+/g, 'missing.wav').replace(/^\/?\*$/, '/ask')
    return {
      method: method as InjectOptions['method'],
      url: path,
      remoteAddress: client(),
      headers: {
        ...(withToken ? { authorization: `Bearer ${token}` } : {}),
        ...(method === 'OPTIONS' ? { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' } : {})
      },
      ...(['POST', 'PUT', 'DELETE'].includes(method) ? { payload: {} } : {})
    }
  }

  /** Sends the request from one address until it is refused with a 429, at most `tries` times. */
  async function drive (options: InjectOptions, tries: number) {
    const responses = []
    for (let i = 0; i < tries; i++) {
      const res = await t.app.inject({ ...options })
      responses.push(res)
      if (res.statusCode === 429) break
    }
    return responses
  }

  function expectLimited (where: string, responses: Awaited<ReturnType<typeof drive>>, method: string): void {
    const limit = Number(responses[0]!.headers['x-ratelimit-limit'])
    expect(limit, `${where}: x-ratelimit-limit`).toBeGreaterThan(0)
    expect(responses.map((r) => r.statusCode === 429), `${where}: ${responses.map((r) => r.statusCode).join(',')}`)
      .toEqual([...Array(limit).fill(false), true])
    const limited = responses.at(-1)!
    expect(limited.headers['content-type'], where).toMatch(/^application\/json/)
    expect(limited.headers['retry-after'], where).toMatch(/^[1-9]\d*$/)
    expect(Number(limited.headers['retry-after']), where).toBeLessThanOrEqual(3600)
    expect(limited.headers['x-ratelimit-remaining'], where).toBe('0')
    if (method !== 'HEAD') {
      expect(limited.json(), where).toEqual({ success: false, message: expect.stringMatching(/^Too many requests: \d+ per \d+ (minute|hour)\. Try again in \d+ seconds\.$/) })
    } else {
      expect(limited.body, where).toBe('')
    }
  }

  it('limits every route that is not documented as exempt, with and without a token', { timeout: 60_000 }, async () => {
    const table = routeTable()
    const listed = new Set(table.map((r) => `${r.method} ${r.url}`))
    // The exempt lists name real routes, so they cannot silently go stale.
    for (const name of [...EXEMPT_ROUTES, ...COUNTED_AFTER_AUTH]) expect(listed, name).toContain(name)

    let covered = 0
    for (const { method, url, authenticated } of table) {
      const name = `${method} ${url}`
      if (method === 'OPTIONS' || EXEMPT_ROUTES.includes(name)) continue
      covered++
      expectLimited(`${name} with a token`, await drive(request(method, url, true), 10), method)
      if (!authenticated) continue
      const anonymous = await drive(request(method, url, false), 10)
      if (COUNTED_AFTER_AUTH.includes(name)) {
        expect(anonymous.map((r) => r.statusCode), `${name} without a token`).toEqual(Array(10).fill(401))
      } else {
        expectLimited(`${name} without a token`, anonymous, method)
      }
    }
    // 57 today (HEAD included; 13 of them Swagger UI's under /docs, on by default); fewer would mean
    // the route table was not collected.
    expect(covered).toBeGreaterThanOrEqual(57)
  })

  it('never limits the documented exempt routes nor OPTIONS', { timeout: 30_000 }, async () => {
    for (const { method, url } of routeTable()) {
      const name = `${method} ${url}`
      if (method !== 'OPTIONS' && !EXEMPT_ROUTES.includes(name)) continue
      const options = request(method, url, false)
      for (let i = 0; i < 8; i++) {
        const res = await t.app.inject({ ...options })
        // /audio/x does not exist; /metrics is off (no METRICS_TOKEN): both the 404 of an unknown path.
        expect(res.statusCode, name).toBe(method === 'OPTIONS' ? 204 : url.startsWith('/audio/') || url === '/metrics' ? 404 : 200)
        expect(res.headers['x-ratelimit-limit'], name).toBeUndefined()
      }
    }
  })
})
