import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../../helpers/app.js'
import { ask, createUser, GENEROUS_RATE_LIMITS, THREE_TOPIC_PAGES, upload } from '../../helpers/documents.js'
import { makePdf } from '../../helpers/pdf-fixtures.js'
import { OwnRedis } from '../../helpers/redis-server.js'

describe('GET /limits', () => {
  let t: TestApp
  let pdf: Buffer

  beforeAll(async () => {
    t = await buildTestApp({ label: 'limits', env: GENEROUS_RATE_LIMITS })
    pdf = await makePdf({ pages: THREE_TOPIC_PAGES })
  })
  afterAll(async () => {
    await t.close()
  })

  it('answers the nested shape plus the flat fields the dashboard reads', async () => {
    const user = await createUser(t.app)
    const res = await t.app.inject({ method: 'GET', url: '/limits', headers: user.headers })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({
      success: true,
      usage: {
        documents: { current: 0, limit: 5, remaining: 5, can_upload: true },
        queries: { limit_per_day: 50, remaining_today: 50, can_query: true, reset_at: null },
        file_size: { max_mb: 10 },
        documents_used: 0,
        max_documents: 5,
        documents_remaining: 5,
        queries_today: 0,
        max_queries_per_day: 50,
        queries_remaining: 50,
        plan_type: 'free'
      },
      beta_info: { message: 'These are beta limits and may change.', upgrade_available: false }
    })
  })

  it('counts documents and questions without consuming any', async () => {
    const user = await createUser(t.app)
    await upload(t.app, user, 'a.pdf', pdf)
    await upload(t.app, user, 'b.pdf', pdf)
    expect((await ask(t.app, user, 'Krakatoa?')).statusCode).toBe(200)
    const read = async () => (await t.app.inject({ method: 'GET', url: '/limits', headers: user.headers })).json().usage
    const first = await read()
    const second = await read()
    expect(second).toEqual(first)
    expect(first).toMatchObject({
      documents: { current: 2, remaining: 3, can_upload: true },
      queries: { remaining_today: 49, can_query: true },
      documents_used: 2,
      documents_remaining: 3,
      queries_today: 1,
      queries_remaining: 49
    })
    const now = Date.now() / 1000
    expect(first.queries.reset_at).toBeGreaterThan(now + 86_400 - 10)
    expect(first.queries.reset_at).toBeLessThanOrEqual(Math.ceil(now) + 86_400)
  })

  it('requires a token', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/limits' })
    expect(res.statusCode).toBe(401)
  })
})

// The quota fails open (documented in query-quota.ts): a Redis outage must not stop questions.
describe('state store outage', () => {
  let redis: OwnRedis
  let t: TestApp

  beforeAll(async () => {
    redis = await OwnRedis.start()
    t = await buildTestApp({ label: 'limits_outage', env: { ...GENEROUS_RATE_LIMITS, REDIS_URL: redis.url, QUERY_LIMIT_PER_DAY: '1' } })
  })
  afterAll(async () => {
    await t.close()
    await redis.kill()
  })

  it('keeps answering while Redis is down, without quota, history or cache, and recovers', async () => {
    const user = await createUser(t.app)
    await upload(t.app, user, 'topics.pdf', await makePdf({ pages: THREE_TOPIC_PAGES }))
    expect((await ask(t.app, user, 'Krakatoa?')).json().limits).toEqual({ queries_remaining: 0, queries_limit: 1 })
    expect((await ask(t.app, user, 'Krakatoa?')).statusCode).toBe(429)

    await redis.kill()
    const started = Date.now()
    for (let i = 0; i < 2; i++) {
      const res = await ask(t.app, user, 'Krakatoa?')
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({ success: true, metadata: { cached: false }, limits: { queries_remaining: 1, queries_limit: 1 } })
    }
    expect(Date.now() - started).toBeLessThan(5000)
    const limits = await t.app.inject({ method: 'GET', url: '/limits', headers: user.headers })
    expect(limits.json().usage.queries).toEqual({ limit_per_day: 1, remaining_today: 1, can_query: true, reset_at: null })
    // POST /clear does not claim a success it did not have: the app's store-outage 503.
    const clear = await t.app.inject({ method: 'POST', url: '/clear', headers: user.headers })
    expect(clear.statusCode).toBe(503)
    expect(clear.json().success).toBe(false)

    await redis.start()
    const deadline = Date.now() + 10_000
    while (t.app.redis!.status !== 'ready' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
    // A fresh server: the window is gone, the quota counts again.
    expect((await ask(t.app, user, 'Krakatoa?')).json().limits).toEqual({ queries_remaining: 0, queries_limit: 1 })
    expect((await ask(t.app, user, 'Krakatoa?')).statusCode).toBe(429)
  })
})
