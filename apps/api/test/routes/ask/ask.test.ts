import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { NO_INFORMATION_ANSWER } from '../../../src/plugins/app/answering/answering.js'
import { buildTestApp, type TestApp } from '../../helpers/app.js'
import { ask, createUser, GENEROUS_RATE_LIMITS, parseSse, THREE_TOPIC_PAGES, upload, type TestUser } from '../../helpers/documents.js'
import { makePdf } from '../../helpers/pdf-fixtures.js'

// The offline (extractive) answerer, and the state it keeps: with Redis, and with Postgres only.
describe.each([
  { redis: true, label: 'with Redis' },
  { redis: false, label: 'without Redis' }
])('POST /ask offline ($label)', ({ redis }) => {
  let t: TestApp
  let db: pg.Pool
  let threePages: Buffer
  let alice: TestUser
  let bob: TestUser

  beforeAll(async () => {
    t = await buildTestApp({ label: redis ? 'ask_redis' : 'ask_pg', redis, env: { ...GENEROUS_RATE_LIMITS, QUERY_LIMIT_PER_DAY: '6' } })
    db = new pg.Pool({ connectionString: t.databaseUrl })
    threePages = await makePdf({ pages: THREE_TOPIC_PAGES })
    alice = await createUser(t.app, 'alice')
    bob = await createUser(t.app, 'bob')
    expect((await upload(t.app, alice, 'topics.pdf', threePages)).json().success).toBe(true)
  })
  afterAll(async () => {
    await db.end()
    await t.close()
  })

  const limits = async (user: TestUser) => {
    const res = await t.app.inject({ method: 'GET', url: '/limits', headers: user.headers })
    expect(res.statusCode).toBe(200)
    return res.json().usage as { queries_today: number, queries_remaining: number, queries: { reset_at: number | null } }
  }

  /** Expires the user's quota window, as 24 h passing would. */
  const expireQuota = async (user: TestUser) => {
    if (redis) await t.app.redis!.del(`${t.redisPrefix}rate:query:${user.id}`)
    else await db.query("UPDATE kv_store SET expires_at = now() - interval '1 second' WHERE key = $1", [`rate:query:${user.id}`])
  }

  it('uses the expected state store', () => {
    expect(t.app.kvStore.kind).toBe(redis ? 'redis' : 'postgres')
    expect(t.app.answering.mode).toBe('extractive')
  })

  it('answers from the right page with citations, then from the cache', async () => {
    await expireQuota(alice)
    const res = await ask(t.app, alice, 'When did the Krakatoa eruption happen?', 'topics')
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body.success).toBe(true)
    expect(body.answer).toContain('Krakatoa eruption of 1883')
    expect(body.answer).toContain('[Page 2]')
    expect(body.answer).not.toContain('[Page 1]')
    expect(body.metadata).toMatchObject({ sources_used: 1, query_type: 'factual', cached: false, model: 'extractive' })
    expect(body.metadata.confidence).toBeGreaterThan(0.5)
    expect(body.metadata.confidence).toBeLessThanOrEqual(1)
    expect(body.sources).toEqual([{ document: 'topics', page: 2, snippet: expect.stringContaining('Krakatoa') }])
    expect(body.limits).toEqual({ queries_remaining: 5, queries_limit: 6 })

    const again = await ask(t.app, alice, '  When did the Krakatoa eruption happen?  ', 'topics')
    expect(again.json()).toMatchObject({ success: true, answer: body.answer, metadata: { cached: true, sources_used: 1 }, limits: { queries_remaining: 4 } })
    // Another scope (all documents) is another cache entry.
    expect((await ask(t.app, alice, 'When did the Krakatoa eruption happen?')).json().metadata.cached).toBe(false)
  })

  it('drops cached answers when the user\'s documents change', async () => {
    await expireQuota(alice)
    const question = 'How often is the apple orchard irrigated?'
    expect((await ask(t.app, alice, question)).json().metadata.cached).toBe(false)
    expect((await ask(t.app, alice, question)).json().metadata.cached).toBe(true)
    const extra = await makePdf({ pages: ['Apple orchard irrigation now happens on Fridays as well.'] })
    expect((await upload(t.app, alice, 'update.pdf', extra)).json().success).toBe(true)
    const afterUpload = (await ask(t.app, alice, question)).json()
    expect(afterUpload.metadata.cached).toBe(false)
    expect(afterUpload.sources.map((s: { document: string }) => s.document).sort()).toEqual(['topics', 'update'])
    expect((await ask(t.app, alice, question)).json().metadata.cached).toBe(true)
    await t.app.inject({ method: 'DELETE', url: '/documents/update', headers: alice.headers })
    const afterDelete = (await ask(t.app, alice, question)).json()
    expect(afterDelete.metadata.cached).toBe(false)
    expect(afterDelete.sources.map((s: { document: string }) => s.document)).toEqual(['topics'])
  })

  it('falls back to any word, and gives the soft answer when nothing matches', async () => {
    await expireQuota(alice)
    // "lighthouse" matches, "submarine" does not: the AND query finds nothing, the OR query page 3.
    const partial = (await ask(t.app, alice, 'lighthouse submarine', 'topics')).json()
    expect(partial.answer).toContain('[Page 3]')
    expect(partial.metadata.confidence).toBeLessThan(0.9)
    const none = (await ask(t.app, alice, 'quantum chromodynamics', 'topics')).json()
    expect(none).toMatchObject({ success: true, answer: NO_INFORMATION_ANSWER, metadata: { sources_used: 0, confidence: 0, cached: false }, sources: [] })
    // Not cached: asking again is still a miss.
    expect((await ask(t.app, alice, 'quantum chromodynamics', 'topics')).json().metadata.cached).toBe(false)
    // An unknown document name finds nothing (no error).
    expect((await ask(t.app, alice, 'Krakatoa', 'no-such-document')).json().answer).toBe(NO_INFORMATION_ANSWER)
    // Overview questions use the opening of the document.
    const overview = (await ask(t.app, alice, 'What is this document about?', 'topics')).json()
    expect(overview.answer).toContain('[Page 1]')
    expect(overview.metadata.sources_used).toBeGreaterThan(0)
  })

  it('answers a follow-up question about the previous question\'s subject', async () => {
    const user = await createUser(t.app, 'followup')
    await upload(t.app, user, 'topics.pdf', threePages)
    expect((await ask(t.app, user, 'Tell me about Krakatoa')).json().answer).toContain('[Page 2]')
    const followUp = (await ask(t.app, user, 'When did it start?')).json()
    expect(followUp.sources.map((s: { page: number }) => s.page)).toContain(2)
    expect(followUp.answer).toContain('[Page 2]')
    // Without the conversation, the same words find nothing.
    await t.app.inject({ method: 'POST', url: '/clear', headers: user.headers })
    expect((await ask(t.app, user, 'When did it start?')).json().answer).toBe(NO_INFORMATION_ANSWER)
  })

  it('refuses empty questions without using the quota', async () => {
    await expireQuota(alice)
    for (const question of ['', '   ']) {
      const res = await ask(t.app, alice, question)
      expect(res.statusCode).toBe(200)
      expect(res.json()).toEqual({ success: false, message: 'Please enter a question' })
    }
    const missing = await t.app.inject({ method: 'POST', url: '/ask', payload: {}, headers: alice.headers })
    expect(missing.json()).toEqual({ success: false, message: 'Please enter a question' })
    expect((await limits(alice)).queries_today).toBe(0)
  })

  it('keeps users apart: Bob can neither ask over Alice\'s documents nor see her answers', async () => {
    await expireQuota(bob)
    const noDocs = await ask(t.app, bob, 'When did the Krakatoa eruption happen?', 'topics')
    expect(noDocs.statusCode).toBe(200)
    expect(noDocs.json()).toEqual({ success: false, message: 'Please upload at least one PDF document before asking questions.', no_documents: true })
    // The unanswered question was given back.
    expect((await limits(bob)).queries_today).toBe(0)

    const own = await makePdf({ pages: ['Bob keeps bees. The hives produce clover honey in June.'] })
    expect((await upload(t.app, bob, 'bees.pdf', own)).json().success).toBe(true)
    const foreign = (await ask(t.app, bob, 'When did the Krakatoa eruption happen?', 'topics')).json()
    expect(foreign.answer).toBe(NO_INFORMATION_ANSWER)
    const all = (await ask(t.app, bob, 'When did the Krakatoa eruption happen?')).json()
    expect(all.answer).toBe(NO_INFORMATION_ANSWER)
    expect(all.metadata.cached).toBe(false)
    expect(all.sources).toEqual([])
    // Deleting "topics" as Bob does nothing to Alice's document.
    expect((await t.app.inject({ method: 'DELETE', url: '/documents/topics', headers: bob.headers })).json()).toEqual({ success: false, message: 'Document not found' })
    const { rows } = await db.query("SELECT count(*)::int AS n FROM documents WHERE user_id = $1 AND name = 'topics'", [alice.id])
    expect(rows[0].n).toBe(1)
  })

  it('enforces the daily quota with a real reset time, reads it without consuming, and resets', async () => {
    const user = await createUser(t.app, 'quota')
    await upload(t.app, user, 'topics.pdf', threePages)
    const bobBefore = (await limits(bob)).queries_today
    const before = Math.floor(Date.now() / 1000)
    for (let i = 1; i <= 6; i++) {
      const res = await ask(t.app, user, `Krakatoa question number ${i}`)
      expect(res.statusCode).toBe(200)
      expect(res.json().limits).toEqual({ queries_remaining: 6 - i, queries_limit: 6 })
    }
    const usage = await limits(user)
    expect(usage.queries_today).toBe(6)
    expect(usage.queries_remaining).toBe(0)
    expect((await limits(user)).queries_today).toBe(6)

    const refused = await ask(t.app, user, 'One more about Krakatoa?')
    expect(refused.statusCode).toBe(429)
    const body = refused.json()
    expect(body).toMatchObject({ success: false, limit_reached: true, limits: { allowed: false, remaining: 0, limit: 6 } })
    expect(body.message).toMatch(/^Query limit reached\. Beta users can make up to 6 queries per day\. Your limit resets at \d\d:\d\d (AM|PM)\.$/)
    expect(body.limits.message).toBe(body.message)
    // The window opened with the first question: it ends about 24 h after it.
    expect(body.limits.reset_at).toBeGreaterThanOrEqual(before + 86_400 - 5)
    expect(body.limits.reset_at).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 86_400)
    expect(usage.queries.reset_at).toBe(body.limits.reset_at)

    // Quotas are per user: Bob's did not move.
    expect((await limits(bob)).queries_today).toBe(bobBefore)

    await expireQuota(user)
    const afterReset = await ask(t.app, user, 'Krakatoa again?')
    expect(afterReset.statusCode).toBe(200)
    expect(afterReset.json().limits).toEqual({ queries_remaining: 5, queries_limit: 6 })
  })

  it('keeps the last six history entries for 24 h and clears them on POST /clear', async () => {
    const user = await createUser(t.app, 'history')
    await upload(t.app, user, 'topics.pdf', threePages)
    for (const q of ['Krakatoa?', 'Orchard?', 'Lighthouse?', 'Pruning?']) await ask(t.app, user, q)
    const history = JSON.parse((await t.app.kvStore.get(`conversation:${user.id}`))!) as string[]
    expect(history).toHaveLength(6)
    expect(history[0]).toBe('Orchard?')
    expect(history[4]).toBe('Pruning?')
    expect(history[5]).toContain('Pruning happens in late winter')

    // Another user's /clear leaves this history alone.
    expect((await t.app.inject({ method: 'POST', url: '/clear', headers: bob.headers })).statusCode).toBe(200)
    expect(JSON.parse((await t.app.kvStore.get(`conversation:${user.id}`))!)).toHaveLength(6)

    const res = await t.app.inject({ method: 'POST', url: '/clear', headers: user.headers })
    expect(res.json()).toEqual({ success: true, message: 'Conversation cleared' })
    expect(await t.app.kvStore.get(`conversation:${user.id}`)).toBeNull()
  })

  it('reads the documents and the conversation once per question', async () => {
    const user = await createUser(t.app, 'reads')
    await upload(t.app, user, 'topics.pdf', threePages)
    const snapshot = vi.spyOn(t.app.documentsRepository, 'snapshot')
    const count = vi.spyOn(t.app.documentsRepository, 'count')
    const kvGet = vi.spyOn(t.app.kvStore, 'get')
    try {
      for (const q of ['When did the Krakatoa eruption happen?', 'When did the Krakatoa eruption happen?']) {
        expect((await ask(t.app, user, q)).json().success).toBe(true)
      }
      expect(snapshot).toHaveBeenCalledTimes(2)
      expect(count).not.toHaveBeenCalled()
      const historyReads = kvGet.mock.calls.filter(([key]) => key === `conversation:${user.id}`)
      expect(historyReads).toHaveLength(2)
      // The second answer (from the cache) still extends the conversation, from the entries read for it.
      expect(JSON.parse((await t.app.kvStore.get(`conversation:${user.id}`))!)).toHaveLength(4)
    } finally {
      vi.restoreAllMocks()
    }
  })

  it('streams the answer as server-sent events when asked to', async () => {
    await expireQuota(alice)
    const res = await ask(t.app, alice, 'Who logged every passing steamship?', 'topics', { accept: 'text/event-stream' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(res.headers['cache-control']).toBe('no-cache')
    const events = parseSse(res.body)
    expect(events.map((e) => e.event)).toEqual(['metadata', 'message', 'done'])
    const [meta, delta, done] = events as unknown as [{ data: Record<string, unknown> }, { data: { delta: string } }, { data: Record<string, unknown> }]
    expect(meta.data).toMatchObject({ metadata: { sources_used: 1, cached: false }, sources: [{ document: 'topics', page: 3 }], limits: { queries_limit: 6 } })
    expect(delta.data.delta).toContain('[Page 3]')
    expect(done.data).toMatchObject({ success: true, answer: delta.data.delta, metadata: { cached: false }, limits: meta.data.limits })
    // Errors before the stream starts keep their JSON status.
    const empty = await ask(t.app, alice, '', null, { accept: 'text/event-stream' })
    expect(empty.headers['content-type']).toContain('application/json')
    expect(empty.json()).toEqual({ success: false, message: 'Please enter a question' })
  })

  it('refuses a non-string question with a 400', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/ask', payload: { question: { nested: true } }, headers: alice.headers })
    expect(res.statusCode).toBe(400)
    expect(res.json().success).toBe(false)
  })
})
