import { describe, expect, it } from 'vitest'
import { appWithUsers, createUser, type TestUser } from '../../helpers/users.js'
import { addDocument, waitFor } from '../../helpers/voice.js'

// /stats, /user/stats, /cache/stats, /cache/clear: login required, the caller's data only.

describe('statistics and cache routes', () => {
  // Extractive answers (no Groq key) are enough to produce real questions.
  const t = appWithUsers({ label: 'stats', env: { ESPEAK_NG_PATH: 'off' } }, async ({ app, alice, bob }) => {
    await addDocument(app, alice.id, 'alice-secret-plans', ['The launch is planned for March.', 'Budget is ten thousand.'])
    await addDocument(app, alice.id, 'alice-notes', ['Remember to water the plants.'])
    await addDocument(app, bob.id, 'bob-diary', ['Bob went fishing on Sunday.'])
  })

  const ask = (user: TestUser, question: string) =>
    t.app.inject({ method: 'POST', url: '/ask', headers: user.headers, payload: { question } })

  describe('GET /user/stats', () => {
    it('counts the caller\'s answered questions and documents', async () => {
      expect((await ask(t.alice, 'When is the launch planned?')).json().success).toBe(true)
      expect((await ask(t.alice, 'What is the budget?')).json().success).toBe(true)
      expect((await ask(t.bob, 'Where did Bob go on Sunday?')).json().success).toBe(true)
      // Unanswered questions (empty) are not counted.
      expect((await ask(t.alice, '   ')).json().success).toBe(false)

      // The events are written after the answers are sent.
      await waitFor(async () => (await t.app.inject({ url: '/user/stats', headers: t.alice.headers })).json().stats.total_queries >= 2)
      await waitFor(async () => (await t.app.inject({ url: '/user/stats', headers: t.bob.headers })).json().stats.total_queries >= 1)
      const res = await t.app.inject({ url: '/user/stats', headers: t.alice.headers })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toEqual({
        success: true,
        stats: {
          total_queries: 2,
          total_documents: 2,
          member_since: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/),
          email: t.alice.email,
          role: null,
          plan: { type: 'free', max_documents: 5, max_queries_per_day: 50 }
        }
      })
      const bobStats = (await t.app.inject({ url: '/user/stats', headers: t.bob.headers })).json().stats
      expect(bobStats).toMatchObject({ total_queries: 1, total_documents: 1, email: t.bob.email })
    })

    it('omits the plan when the user has none, and answers 404 for a deleted account', async () => {
      const carol = await createUser(t.app, 'carol')
      await t.app.pg.query('DELETE FROM user_plans WHERE user_id = $1', [carol.id])
      const stats = (await t.app.inject({ url: '/user/stats', headers: carol.headers })).json().stats
      expect(stats).toMatchObject({ total_queries: 0, total_documents: 0 })
      expect(stats.plan).toBeUndefined()
      await t.app.usersRepository.delete(carol.id)
      const gone = await t.app.inject({ url: '/user/stats', headers: carol.headers })
      expect(gone.statusCode).toBe(404)
      expect(gone.json()).toEqual({ success: false, message: 'User not found' })
    })
  })

  describe('GET /stats (login required; lists only the caller\'s documents)', () => {
    it('requires login', async () => {
      expect((await t.app.inject({ url: '/stats' })).statusCode).toBe(401)
    })

    it('reports only the caller\'s documents', async () => {
      const res = await t.app.inject({ url: '/stats', headers: t.alice.headers })
      expect(res.statusCode).toBe(200)
      const { stats } = res.json()
      expect(stats.vector_store).toEqual({
        total_chunks: 3,
        total_documents: 2,
        document_names: ['alice-secret-plans', 'alice-notes'],
        embedding_model: 'postgres-fts-english',
        collection_name: 'document_chunks'
      })
      expect(stats.models).toEqual({ embedding_model: 'postgres-fts-english', llm_model: 'extractive' })
      expect(stats.cache).toMatchObject({ enabled: true, mode: 'redis', connection: 'active' })

      const bobView = (await t.app.inject({ url: '/stats', headers: t.bob.headers })).json().stats
      expect(bobView.vector_store.document_names).toEqual(['bob-diary'])
      expect(JSON.stringify(bobView)).not.toContain('alice')
    })
  })

  describe('GET /cache/stats and POST /cache/clear (login required; never reset a quota)', () => {
    it('require login', async () => {
      expect((await t.app.inject({ url: '/cache/stats' })).statusCode).toBe(401)
      expect((await t.app.inject({ method: 'POST', url: '/cache/clear' })).statusCode).toBe(401)
    })

    it('count and clear the caller\'s conversation only, never a quota', async () => {
      const before = (await t.app.inject({ url: '/cache/stats', headers: t.alice.headers })).json()
      expect(before).toEqual({ success: true, cache: { enabled: true, mode: 'redis', connection: 'active', session_keys: 1, rate_keys: 1, total_keys: 2 } })
      const quotaBefore = await t.app.queryQuota.peek(t.alice.id)
      expect(quotaBefore.used).toBe(2)

      const cleared = await t.app.inject({ method: 'POST', url: '/cache/clear', headers: t.alice.headers })
      expect(cleared.statusCode).toBe(200)
      expect(cleared.json()).toEqual({ success: true, message: 'Cache cleared successfully' })

      expect(await t.app.chatHistory.load(t.alice.id)).toEqual([])
      expect((await t.app.queryQuota.peek(t.alice.id)).used).toBe(2)
      expect((await t.app.inject({ url: '/cache/stats', headers: t.alice.headers })).json().cache)
        .toMatchObject({ session_keys: 0, rate_keys: 1, total_keys: 1 })
      // Bob's conversation and quota are untouched.
      expect((await t.app.chatHistory.load(t.bob.id)).length).toBeGreaterThan(0)
      expect((await t.app.inject({ url: '/cache/stats', headers: t.bob.headers })).json().cache)
        .toMatchObject({ session_keys: 1, rate_keys: 1 })
    })
  })
})
