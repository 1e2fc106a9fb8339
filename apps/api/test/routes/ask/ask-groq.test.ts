import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { buildGroqTestApp, type GroqTestApp } from '../../helpers/app.js'
import { ask, createUser, GENEROUS_RATE_LIMITS, parseSse, THREE_TOPIC_PAGES, upload, type TestUser } from '../../helpers/documents.js'
import { makePdf } from '../../helpers/pdf-fixtures.js'
import { waitFor } from '../../helpers/voice.js'

const TIMEOUT_MS = 800

describe('POST /ask through Groq (mock server)', () => {
  let t: GroqTestApp
  let alice: TestUser

  beforeAll(async () => {
    t = await buildGroqTestApp({ label: 'ask_groq', env: { ...GENEROUS_RATE_LIMITS, GROQ_TIMEOUT_MS: String(TIMEOUT_MS) } })
    alice = await createUser(t.app, 'alice')
    expect((await upload(t.app, alice, 'topics.pdf', await makePdf({ pages: THREE_TOPIC_PAGES }))).json().success).toBe(true)
  })
  afterEach(() => {
    t.mock.setOptions({ failNext: 0, failRate: 0, latencyMs: 0 })
    vi.restoreAllMocks()
  })
  afterAll(async () => { await t?.close() })

  const queriesToday = async (user: TestUser): Promise<number> =>
    (await t.app.inject({ method: 'GET', url: '/limits', headers: user.headers })).json().usage.queries_today

  it('answers with the model, the page-tagged context and the conversation, then from the cache', async () => {
    expect(t.app.answering.mode).toBe('groq')
    const create = vi.spyOn(t.app.groq!.chat.completions, 'create')
    const user = await createUser(t.app, 'groq')
    await upload(t.app, user, 'topics.pdf', await makePdf({ pages: THREE_TOPIC_PAGES }))

    const first = await ask(t.app, user, 'When was the Krakatoa eruption?', 'topics')
    expect(first.statusCode).toBe(200)
    const body = first.json()
    expect(body.answer).toBe('According to the documents: The Krakatoa eruption of 1883 destroyed most of the island. [Page 2]')
    expect(body.metadata).toMatchObject({ sources_used: 1, cached: false, model: 'llama-3.1-8b-instant', query_type: 'factual' })
    expect(body.sources).toEqual([{ document: 'topics', page: 2, snippet: expect.stringContaining('1883') }])

    await ask(t.app, user, 'Who trims the lighthouse lamp?', 'topics')
    expect(create).toHaveBeenCalledTimes(2)
    const [params] = create.mock.calls[1]! as unknown as [{ model: string, messages: Array<{ role: string, content: string }>, max_tokens: number }]
    expect(params.model).toBe('llama-3.1-8b-instant')
    expect(params.max_tokens).toBe(500)
    expect(params.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user'])
    expect(params.messages[1]!.content).toBe('When was the Krakatoa eruption?')
    expect(params.messages[2]!.content).toBe(body.answer)
    expect(params.messages[3]!.content).toMatch(/^Context:\n\[Page 3\] Lighthouse keeping\./)
    expect(params.messages[3]!.content).toContain('Question: Who trims the lighthouse lamp?')

    const cached = await ask(t.app, user, 'When was the Krakatoa eruption?', 'topics')
    expect(cached.json()).toMatchObject({ answer: body.answer, metadata: { cached: true, model: 'llama-3.1-8b-instant' } })
    expect(create).toHaveBeenCalledTimes(2)
  })

  it('streams the model\'s deltas as server-sent events', async () => {
    const res = await ask(t.app, alice, 'Explain how the apple orchard is irrigated', 'topics', { accept: 'text/event-stream' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    const events = parseSse(res.body)
    expect(events[0]!.event).toBe('metadata')
    expect(events.at(-1)!.event).toBe('done')
    const deltas = events.filter((e) => e.event === 'message').map((e) => (e.data as { delta: string }).delta)
    expect(deltas.length).toBeGreaterThan(3)
    const done = events.at(-1)!.data as { success: boolean, answer: string, metadata: { model: string } }
    expect(done.success).toBe(true)
    expect(deltas.join('')).toBe(done.answer)
    expect(done.answer).toContain('[Page 1]')
    expect(done.metadata.model).toBe('llama-3.1-8b-instant')
  })

  it.each([
    { failMode: '429' as const, status: 503, message: 'The AI service is busy right now. Please try again in a moment.' },
    { failMode: '500' as const, status: 502, message: 'The AI service is unavailable right now. Please try again shortly.' },
    { failMode: 'stall' as const, status: 504, message: 'The AI service took too long to answer. Please try again.' }
  ])('turns an upstream $failMode into $status, without using the quota or caching', async ({ failMode, status, message }) => {
    const user = await createUser(t.app, `fail${failMode}`)
    await upload(t.app, user, 'topics.pdf', await makePdf({ pages: THREE_TOPIC_PAGES }))
    for (const accept of ['application/json', 'text/event-stream']) {
      t.mock.setOptions({ failNext: 1, failMode, retryAfterSeconds: 7 })
      const started = Date.now()
      const res = await ask(t.app, user, 'When was the Krakatoa eruption?', 'topics', { accept })
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 2000)
      expect(res.statusCode).toBe(status)
      expect(res.headers['content-type']).toContain('application/json')
      expect(res.json()).toEqual({ success: false, message })
      if (failMode === '429') expect(res.headers['retry-after']).toBe('7')
    }
    expect(await queriesToday(user)).toBe(0)
    expect(await t.app.kvStore.get(`conversation:${user.id}`)).toBeNull()
    // The next call reaches the model again (nothing was cached) and succeeds.
    const ok = await ask(t.app, user, 'When was the Krakatoa eruption?', 'topics')
    expect(ok.json()).toMatchObject({ success: true, metadata: { cached: false } })
    expect(await queriesToday(user)).toBe(1)
  })

  it('cancels the upstream call when the client goes away', async () => {
    t.mock.setOptions({ latencyMs: 600 })
    t.mock.resetStats()
    const controller = new AbortController()
    await t.app.listen({ port: 0, host: '127.0.0.1' })
    const address = t.app.server.address() as { port: number }
    const pending = fetch(`http://127.0.0.1:${address.port}/ask`, {
      method: 'POST',
      headers: { ...alice.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ question: 'Who logged every passing steamship?', document_name: 'topics' }),
      signal: controller.signal
    }).catch((err: unknown) => err)
    // Gone once the question is upstream (not after a fixed time, which a busy machine may not meet).
    await waitFor(async () => t.mock.stats().inFlight === 1)
    controller.abort()
    expect(await pending).toBeInstanceOf(Error)
    await waitFor(async () => (t.mock.stats().byOutcome.aborted ?? 0) > 0)
    expect(t.mock.stats().byOutcome.aborted).toBe(1)
    expect(t.mock.stats().inFlight).toBe(0)
  })
})
