import fc from 'fast-check'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { describe, expect, it } from 'vitest'
import { MAX_SEARCH_TERMS, searchQueries } from '../../src/lib/answer-text.js'
import { PIPELINE_ERROR_ANSWER } from '../../src/plugins/app/answering/answering.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { NO_RATE_LIMITS } from '../helpers/bad-input.js'
import { appWithUsers, createUser, groqAppWithUsers, type TestUser, type Users } from '../helpers/users.js'
import { addDocument, multipart, wavWithTranscript } from '../helpers/voice.js'

// Questions: a length bound checked before the quota counts anything (/ask and /voice-query), and
// retrieval that answers every accepted question without a database error, whatever its characters.

const PAGES = [
  'Lighthouse keeping. The lighthouse lamp is trimmed at dusk and the ledger records every steamship.',
  'Orchard handbook. The apple orchard is irrigated every Tuesday; pruning happens in late winter.',
  'Mixed scripts: Der Leuchtturm steht am Hafen. ಕನ್ನಡ ಪಠ್ಯ ಇಲ್ಲಿದೆ. שלום עולם. مرحبا بالعالم. Ünïcödé 1883 ½ x² AT&T C++ e-mail.'
]

/** `unit` repeated up to `chars` characters (code points) exactly. */
function fill (unit: string, chars: number): string {
  return Array.from(unit.repeat(Math.ceil(chars / Array.from(unit).length))).slice(0, chars).join('')
}

/** The apps' setup here: alice and bob each own the `notes` document. */
async function withNotes ({ app, alice, bob }: TestApp & Users): Promise<void> {
  for (const user of [alice, bob]) await addDocument(app, user.id, 'notes', PAGES)
}

async function used (app: FastifyInstance, user: TestUser): Promise<number> {
  return (await app.queryQuota.peek(user.id)).used
}

function expectTooLong (res: LightMyRequestResponse, message: string): void {
  expect(res.statusCode, res.body.slice(0, 300)).toBe(400)
  expect(res.headers['content-type']).toMatch(/^application\/json/)
  expect(res.json()).toEqual({ success: false, message })
}

describe('question length bound (offline answerer)', () => {
  const t = appWithUsers({ label: 'question_bound', redis: false, env: NO_RATE_LIMITS }, withNotes)

  const ask = async (question: string, headers: Record<string, string> = {}) =>
    await t.app.inject({ method: 'POST', url: '/ask', payload: { question }, headers: { ...t.alice.headers, ...headers } })

  it('answers a question of exactly ASK_MAX_QUESTION_CHARS characters, refuses one more with a 400 before the quota', async () => {
    const max = t.config.ask.maxQuestionChars
    expect(max).toBe(2000)
    const tooLong = `Question is too long: at most ${max} characters. Please ask a shorter question.`
    const fits = fill('When is the lighthouse lamp trimmed? ', max)
    const before = await used(t.app, t.alice)

    // Surrounding white space is trimmed before counting.
    const ok = await ask(`  ${fits}\n`)
    expect(ok.statusCode).toBe(200)
    expect(ok.json()).toMatchObject({ success: true, metadata: { query_type: 'factual', model: 'extractive' } })
    expect(ok.json().answer).toContain('trimmed at dusk')
    expect(await used(t.app, t.alice)).toBe(before + 1)
    // Characters are code points: as many emoji as the limit fit, though each is two UTF-16 units.
    expect((await ask('🦄'.repeat(max))).json()).toMatchObject({ success: true })
    expect(await used(t.app, t.alice)).toBe(before + 2)
    const history = await t.app.chatHistory.load(t.alice.id)

    for (const question of [`${fits}?`, '🦄'.repeat(max + 1), 'lighthouse '.repeat(90_000)]) {
      expectTooLong(await ask(question), tooLong)
      // Streaming clients get the same plain JSON refusal.
      expectTooLong(await ask(question, { accept: 'text/event-stream' }), tooLong)
    }
    expect(await used(t.app, t.alice)).toBe(before + 2)
    // Refused questions never reach the conversation either.
    expect(await t.app.chatHistory.load(t.alice.id)).toEqual(history)
  })

  it('makes the limit configurable (ASK_MAX_QUESTION_CHARS)', async () => {
    const small = await buildTestApp({ label: 'question_bound_small', redis: false, env: { ...NO_RATE_LIMITS, ASK_MAX_QUESTION_CHARS: '10' } })
    try {
      const user = await createUser(small.app, 'carol')
      await addDocument(small.app, user.id, 'notes', PAGES)
      const send = async (question: string) => await small.app.inject({ method: 'POST', url: '/ask', payload: { question }, headers: user.headers })
      expect((await send('lighthouse')).json()).toMatchObject({ success: true })
      expectTooLong(await send('lighthouses'), 'Question is too long: at most 10 characters. Please ask a shorter question.')
      expect(await used(small.app, user)).toBe(1)
    } finally {
      await small.close()
    }
  })
})

describe('question length bound (Groq, /voice-query)', () => {
  const t = groqAppWithUsers({ label: 'question_bound_voice', env: { ...NO_RATE_LIMITS, GROQ_TIMEOUT_MS: '5000', ESPEAK_NG_PATH: 'off' } }, withNotes)

  const voiceQuery = async (spoken: string) => {
    const body = multipart({}, [{ field: 'audio', filename: 'question.wav', bytes: wavWithTranscript(spoken) }])
    return await t.app.inject({ method: 'POST', url: '/voice-query', headers: { ...t.bob.headers, ...body.headers }, payload: body.payload })
  }

  it('bounds the transcribed question the same way, before the quota', async () => {
    const max = t.config.ask.maxQuestionChars
    const fits = fill('Is the orchard irrigated on Tuesday? ', max).trim()
    const ok = await voiceQuery(fits)
    expect(ok.statusCode, ok.body.slice(0, 300)).toBe(200)
    expect(ok.json()).toMatchObject({ success: true, question: fits })
    expect(await used(t.app, t.bob)).toBe(1)

    expectTooLong(await voiceQuery(`${fits} Really?`), `The transcribed question is too long: at most ${max} characters. Please ask a shorter question.`)
    expect(await used(t.app, t.bob)).toBe(1)
  })

  it('sends a question of the full length to the LLM', async () => {
    const max = t.config.ask.maxQuestionChars
    const res = await t.app.inject({ method: 'POST', url: '/ask', payload: { question: fill('What is trimmed at dusk? ', max) }, headers: t.bob.headers })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ success: true, metadata: { model: t.config.groq.model } })
    expectTooLong(
      await t.app.inject({ method: 'POST', url: '/ask', payload: { question: fill('What is trimmed at dusk? ', max + 1) }, headers: t.bob.headers }),
      `Question is too long: at most ${max} characters. Please ask a shorter question.`)
  })
})

describe('property-based: retrieval answers every accepted question without a database error', () => {
  let documentIds: string[]
  // Without Redis: the conversation and the answer cache live in PostgreSQL too.
  const t = appWithUsers({ label: 'question_fuzz', redis: false, env: NO_RATE_LIMITS }, async (fixture) => {
    await withNotes(fixture)
    documentIds = (await fixture.app.documentsRepository.snapshot(fixture.alice.id)).refs.map((r) => r.id)
  })

  /** tsquery and websearch operators, SQL and escape characters, NUL, lone surrogates, RTL, combining marks. */
  const SOUP = [
    '&', '|', '!', '!!', '<->', '<2>', '<0>', ':', '*', ':*', ':A', ':ab*', '(', ')', "'", "''", '"', '\\', '\\\\', '-', '+', '~',
    '@@', '#', '%', '_', ';', '--', '/*', '*/', '$1', '{', '}', '[', ']', '=', '<', '>', ',', '.', '?', '`',
    'or', 'OR', 'Or', 'and', 'AND', 'not', 'NOT', '-or', 'or-', '"or"',
    '\u0000', '\ud800', '\udfff', '\udc00\ud800', '🦄', '👩‍👩‍👧', '\u202e', '\u200f', '\u200b', '\ufeff', '\u0301', '\t', '\n', '\r',
    'lighthouse', 'lamp', 'orchard', 'Tuesday', 'dusk', 'Leuchtturm', 'ಕನ್ನಡ', 'שלום', 'مرحبا', 'Ünïcödé', '1883', '½', 'x²',
    'the', 'a', 'is', 'what', 'it', 'summary', ' ', ' ', ' '
  ]
  const STOP_WORDS = ['the', 'a', 'an', 'is', 'of', 'what', 'it', 'or', 'and', 'not', 'to', 'this', 'please', 'tell', 'me', 'about', 'yourselves']
  const PUNCTUATION = [...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~¡¿«»“”‘’—…·•§¶']

  const anyCodeUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 2500 })
  const question = fc.oneof(
    fc.array(fc.constantFrom(...SOUP), { maxLength: 1200 }).map((parts) => parts.join('')),
    fc.array(fc.constantFrom(...SOUP), { maxLength: 600 }).map((parts) => parts.join(' ')),
    anyCodeUnits,
    fc.string({ unit: 'binary', maxLength: 2500 }),
    // Very many distinct words, and one word (or operator) repeated thousands of times.
    fc.array(fc.stringMatching(/^[a-z]{1,12}$/), { minLength: 200, maxLength: 1000 }).map((w) => w.join(' ')),
    fc.tuple(fc.constantFrom('lighthouse', 'or', '&', '!', 'a', 'ಕ', '🦄', 'x'), fc.constantFrom(' ', '', '|', ' & ', ' or ', '-')).map(([w, sep]) => `${w}${sep}`.repeat(3000)),
    fc.array(fc.constantFrom(...STOP_WORDS), { minLength: 1, maxLength: 400 }).map((w) => w.join(' ')),
    fc.string({ unit: fc.constantFrom(...PUNCTUATION), minLength: 1, maxLength: 2500 })
  ).map((raw) => Array.from(raw.trim()).slice(0, t.config.ask.maxQuestionChars).join('').trim()).filter((q) => q !== '')

  it('searchQueries bounds the terms, and PostgreSQL accepts both queries', { timeout: 120_000 }, async () => {
    await fc.assert(fc.asyncProperty(question, question, async (q, previous) => {
      for (const queries of [searchQueries(q), searchQueries(`${q} ${previous}`)]) {
        const terms = queries.all === '' ? [] : queries.all.split(' ')
        expect(terms.length).toBeLessThanOrEqual(MAX_SEARCH_TERMS)
        expect(queries.any).toBe(terms.join(' or '))
        if (queries.all === '') continue
        await t.app.documentsRepository.searchChunks(documentIds, queries.all, 10)
        await t.app.documentsRepository.searchChunks(documentIds, queries.any, 10)
      }
    }), { numRuns: 150 })
  })

  it('searchQueries stays within what PostgreSQL parses for texts of any size (a larger ASK_MAX_QUESTION_CHARS, long histories)', async () => {
    const huge = [
      Array.from({ length: 150_000 }, (_, i) => `word${i % 500}`).join(' '),
      Array.from({ length: 100_000 }, (_, i) => `w${i}`).join(' & '),
      'lighthouse or '.repeat(80_000),
      'ಕನ್ನಡ '.repeat(150_000),
      'x'.repeat(1_000_000),
      '&|!<->:*()\'"\\ '.repeat(80_000)
    ]
    for (const text of huge) {
      const queries = searchQueries(text)
      expect(queries.all.split(' ').length).toBeLessThanOrEqual(MAX_SEARCH_TERMS)
      if (queries.all === '') continue
      await t.app.documentsRepository.searchChunks(documentIds, queries.all, 10)
      await t.app.documentsRepository.searchChunks(documentIds, queries.any, 10)
    }
  })

  it('POST /ask answers every accepted question (success, never the pipeline error), and keeps it in the conversation', { timeout: 120_000 }, async () => {
    await fc.assert(fc.asyncProperty(question, async (q) => {
      const res = await t.app.inject({ method: 'POST', url: '/ask', payload: { question: q }, headers: t.alice.headers })
      const where = `${JSON.stringify(q).slice(0, 200)} -> ${res.body.slice(0, 300)}`
      expect(res.statusCode, where).toBe(200)
      const body = res.json() as { success: boolean, answer: string, metadata: { query_type: string } }
      expect(body.success, where).toBe(true)
      expect(body.metadata.query_type, where).not.toBe('error')
      expect(body.answer, where).not.toBe(PIPELINE_ERROR_ANSWER)
      // The conversation store (PostgreSQL here) took the question as it was asked.
      expect((await t.app.chatHistory.load(t.alice.id)).at(-2), where).toBe(q)
    }), { numRuns: 150 })
  })
})
