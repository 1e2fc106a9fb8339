import { afterEach, describe, expect, it, vi } from 'vitest'
import { groqAppWithUsers, type TestUser } from '../../helpers/users.js'
import { addDocument, multipart, wavWithTranscript } from '../../helpers/voice.js'

const LIMIT = 4

describe('POST /voice-query', () => {
  const t = groqAppWithUsers({
    label: 'voice_query',
    env: { GROQ_TIMEOUT_MS: '1000', QUERY_LIMIT_PER_DAY: String(LIMIT), ESPEAK_NG_PATH: 'off' }
  }, async ({ app, alice }) => {
    await addDocument(app, alice.id, 'store-policy', [
      'Refunds are issued within thirty days of purchase. Shipping is free for orders over fifty dollars.',
      'Our support line is open on weekdays from nine to five.'
    ])
  })

  afterEach(() => { t.mock.setOptions({ failNext: 0, failEndpoints: [] }) })

  async function voiceQuery (user: TestUser, spoken: string | Buffer, fields: Record<string, string> = {}) {
    const bytes = typeof spoken === 'string' ? wavWithTranscript(spoken) : spoken
    const body = multipart(fields, [{ field: 'audio', filename: 'question.webm', contentType: 'audio/webm', bytes }])
    return t.app.inject({ method: 'POST', url: '/voice-query', headers: { ...user.headers, ...body.headers }, payload: body.payload })
  }

  async function used (user: TestUser): Promise<number> {
    return (await t.app.queryQuota.peek(user.id)).used
  }

  it('transcribes, answers from the user\'s documents and speaks the answer synchronously', async () => {
    const res = await voiceQuery(t.alice, 'What is the refund policy?')
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body).toMatchObject({ success: true, question: 'What is the refund policy?', transcription_language: 'en' })
    expect(body.answer).toContain('Refunds are issued within thirty days of purchase.')
    expect(body.metadata).toMatchObject({ sources_used: expect.any(Number), confidence: expect.any(Number), query_type: expect.any(String) })
    expect(body.metadata.sources_used).toBeGreaterThan(0)
    expect(body.limits).toEqual({ queries_remaining: LIMIT - 1, queries_limit: LIMIT })
    expect(body.audio_url).toMatch(/^\/audio\/groq_en_[0-9a-f]{32}\.wav$/)

    // The audio exists now (no polling needed) and says the answer.
    const audio = await t.app.inject({ url: body.audio_url })
    expect(audio.statusCode).toBe(200)
    const upload = multipart({}, [{ field: 'audio', filename: 'a.wav', bytes: audio.rawPayload }])
    const heard = await t.app.inject({ method: 'POST', url: '/transcribe', headers: { ...t.alice.headers, ...upload.headers }, payload: upload.payload })
    expect(heard.json().text).toContain('Refunds are issued within thirty days of purchase.')
  })

  it('reports the requested transcription language', async () => {
    const res = await voiceQuery(t.alice, 'When is support open?', { language: 'hi' })
    expect(res.json()).toMatchObject({ success: true, transcription_language: 'hi' })
    expect(res.json().answer).toContain('weekdays')
  })

  it('counts against the daily quota shared with /ask (voice questions count too)', async () => {
    const before = await used(t.alice)
    expect(before).toBe(2)
    const ask = await t.app.inject({ method: 'POST', url: '/ask', headers: t.alice.headers, payload: { question: 'Is shipping free?' } })
    expect(ask.statusCode).toBe(200)
    expect(await used(t.alice)).toBe(3)
    // /ask announces its answer's audio, which appears once the background synthesis is done.
    const audio = ask.json().audio
    expect(audio).toEqual({ url: `/audio/auto_${audio.audio_id}.wav`, generating: true, audio_id: expect.stringMatching(/^[0-9a-f]{32}$/) })
    await t.app.speech.drain()
    const head = await t.app.inject({ method: 'HEAD', url: audio.url, headers: { origin: 'http://localhost:5173' } })
    expect(head.statusCode).toBe(200)
    expect(head.headers['access-control-allow-origin']).toBe('http://localhost:5173')
    expect((await voiceQuery(t.alice, 'Is shipping free?')).json().limits).toEqual({ queries_remaining: 0, queries_limit: LIMIT })
    const refused = await voiceQuery(t.alice, 'Is shipping free?')
    expect(refused.statusCode).toBe(429)
    const body = refused.json()
    expect(body).toMatchObject({ success: false, limit_reached: true, limits: { allowed: false, remaining: 0, limit: LIMIT } })
    expect(body.message).toMatch(new RegExp(`^Query limit reached\\. Beta users can make up to ${LIMIT} queries per day\\. Your limit resets at \\d\\d:\\d\\d (AM|PM)\\.$`))
    // /ask is refused too: one quota.
    expect((await t.app.inject({ method: 'POST', url: '/ask', headers: t.alice.headers, payload: { question: 'Is shipping free?' } })).statusCode).toBe(429)
  })

  it('without documents answers no_documents and gives the question back', async () => {
    const res = await voiceQuery(t.bob, 'What is the refund policy?')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ success: false, message: 'Please upload at least one PDF document before asking questions.', no_documents: true })
    expect(await used(t.bob)).toBe(0)
  })

  it('only searches the caller\'s documents', async () => {
    await addDocument(t.app, t.bob.id, 'fruit', ['Bananas are yellow and rich in potassium.'])
    const res = await voiceQuery(t.bob, 'What is the refund policy?')
    expect(res.json().success).toBe(true)
    expect(res.json().answer).not.toContain('Refunds are issued')
    const own = await voiceQuery(t.bob, 'What colour are bananas?')
    expect(own.json().answer).toContain('Bananas are yellow')
  })

  it('answers the documented messages for missing audio and silent recordings, without using the quota', async () => {
    const before = await used(t.bob)
    const none = multipart({ language: 'en' })
    const missing = await t.app.inject({ method: 'POST', url: '/voice-query', headers: { ...t.bob.headers, ...none.headers }, payload: none.payload })
    expect(missing.json()).toEqual({ success: false, message: 'No audio file provided' })
    const silent = await voiceQuery(t.bob, '')
    expect(silent.statusCode).toBe(200)
    expect(silent.json()).toEqual({ success: false, message: 'Could not transcribe audio' })
    expect(await used(t.bob)).toBe(before)
  })

  it('refunds the question when the answer service fails, and reports it clearly', async () => {
    const before = await used(t.bob)
    t.mock.setOptions({ failNext: 1, failMode: '500', failEndpoints: ['chat.completions'] })
    const res = await voiceQuery(t.bob, 'What colour are bananas today?')
    expect(res.statusCode).toBe(502)
    expect(res.json()).toEqual({ success: false, message: 'The AI service is unavailable right now. Please try again shortly.' })
    expect(await used(t.bob)).toBe(before)
  })

  it('refunds the question when any other failure leaves it unanswered, as /ask does', async () => {
    const before = await used(t.bob)
    // Storing the spoken answer fails with an unexpected error (not a speech-service one): a 500.
    const save = vi.spyOn(t.app.audioStore, 'save').mockRejectedValueOnce(new Error('audio row rejected'))
    try {
      const res = await voiceQuery(t.bob, 'Are bananas yellow?')
      expect(res.statusCode).toBe(500)
      expect(res.json()).toEqual({ success: false, message: 'An error occurred' })
      expect(save).toHaveBeenCalledTimes(1)
    } finally {
      save.mockRestore()
    }
    expect(await used(t.bob)).toBe(before)
  })

  it('still delivers the answer when only the speech fails', async () => {
    t.mock.setOptions({ failNext: 1, failMode: '429', failEndpoints: ['audio.speech'] })
    const res = await voiceQuery(t.bob, 'Are bananas rich in potassium?')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({
      success: true,
      audio_url: null,
      audio_error: 'The text-to-speech service is busy right now. Please try again in a moment.'
    })
    expect(res.json().answer).toContain('potassium')
  })

  it('requires login', async () => {
    const body = multipart({}, [{ field: 'audio', filename: 'a.wav', bytes: wavWithTranscript('hi') }])
    const res = await t.app.inject({ method: 'POST', url: '/voice-query', headers: body.headers, payload: body.payload })
    expect(res.statusCode).toBe(401)
  })
})
