import type { InjectOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { STORE_UNAVAILABLE_MESSAGE } from '../src/plugins/app/rate-limit-policy.js'
import { buildTestApp, type TestApp } from './helpers/app.js'
import { OwnRedis } from './helpers/redis-server.js'

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

  it('uses the expected store', () => {
    expect(t.app.rateLimitStoreKind).toBe(store)
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
