import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { buildGroqTestApp, buildTestApp, type GroqTestApp } from '../../../helpers/app.js'
import { createUser, multipart, waitFor, wavWithTranscript, type TestUser } from '../../../helpers/voice.js'
import { MAX_AUDIO_UPLOAD_BYTES } from '../../../../src/plugins/app/speech/speech-http.js'

// The Groq path of /speak, /transcribe, /tts/* and the background answer audio, against the mock.

const MAX_INPUT = 100
const MAX_CHARS = 400

/** The Groq client's timeout in the main suite: the stalled call ends after it, not never. */
const GROQ_TIMEOUT_MS = 4000

describe('voice through Groq', () => {
  let t: GroqTestApp
  let alice: TestUser
  let bob: TestUser
  let db: pg.Client

  beforeAll(async () => {
    t = await buildGroqTestApp({
      label: 'voice_groq',
      env: {
        // Long enough for 25 MB to reach the mock on a busy machine; the stalled call below waits it out.
        GROQ_TIMEOUT_MS: String(GROQ_TIMEOUT_MS),
        GROQ_TTS_MAX_INPUT_CHARS: String(MAX_INPUT),
        TTS_MAX_CHARS: String(MAX_CHARS),
        TTS_CONCURRENCY: '1',
        TTS_QUEUE_MAX: '2',
        ESPEAK_NG_PATH: 'off'
      }
    })
    alice = await createUser(t.app, 'alice')
    bob = await createUser(t.app, 'bob')
    db = new pg.Client({ connectionString: t.databaseUrl })
    await db.connect()
  })

  afterEach(async () => {
    t.mock.setOptions({ failNext: 0, failEndpoints: [], latencyMs: 0 })
    await t.app.speech.drain()
  })

  afterAll(async () => {
    await db?.end()
    await t?.close()
  })

  async function transcribe (user: TestUser, bytes: Buffer, fields: Record<string, string> = {}, filename = 'speech.wav') {
    const body = multipart(fields, [{ field: 'audio', filename, bytes }])
    return t.app.inject({ method: 'POST', url: '/transcribe', headers: { ...user.headers, ...body.headers }, payload: body.payload })
  }

  async function speak (user: TestUser, payload: Record<string, unknown>) {
    return t.app.inject({ method: 'POST', url: '/speak', headers: user.headers, payload })
  }

  async function owner (filename: string): Promise<string | undefined> {
    const { rows } = await db.query<{ user_id: string }>('SELECT user_id FROM audio_files WHERE filename = $1', [filename])
    return rows[0]?.user_id
  }

  describe('POST /speak', () => {
    it('synthesizes with Groq TTS into a stored WAV whose URL serves it, reporting the engine that ran', async () => {
      const res = await speak(alice, { text: 'The refund window is thirty days.', language: 'auto' })
      expect(res.statusCode).toBe(200)
      const body = res.json()
      expect(body).toMatchObject({ success: true, language: 'en', language_name: 'English', engine: 'Groq TTS', truncated: false })
      expect(body.filename).toMatch(/^groq_en_[0-9a-f]{32}\.wav$/)
      expect(body.audio_url).toBe(`/audio/${body.filename}`)
      // The mock speaks 60 ms per character.
      expect(body.duration).toBeCloseTo(33 * 0.06, 1)
      const audio = await t.app.inject({ url: body.audio_url })
      expect(audio.statusCode).toBe(200)
      expect(audio.headers['content-type']).toBe('audio/wav')
      expect(audio.rawPayload.subarray(0, 4).toString()).toBe('RIFF')
      expect(await owner(body.filename)).toBe(alice.id)
    })

    it('round-trips: the spoken audio transcribes back to the text', async () => {
      const text = 'What does chapter three say about pricing?'
      const spoken = (await speak(bob, { text })).json()
      const audio = await t.app.inject({ url: spoken.audio_url })
      const res = await transcribe(bob, audio.rawPayload)
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({ success: true, text, language: 'en' })
      expect(await owner(spoken.filename)).toBe(bob.id)
    })

    it('speaks markdown answers as plain text', async () => {
      const spoken = (await speak(alice, { text: '## Summary\n\n**Refunds** take `30` days, see [the policy](http://x/y).' })).json()
      const back = await transcribe(alice, (await t.app.inject({ url: spoken.audio_url })).rawPayload)
      expect(back.json().text).toBe('Summary Refunds take 30 days, see the policy.')
    })

    it('answers "No text provided" for empty or blank text, as a 200 failure', async () => {
      for (const payload of [{}, { text: '' }, { text: '   ' }]) {
        const res = await speak(alice, payload)
        expect(res.statusCode).toBe(200)
        expect(res.json()).toEqual({ success: false, message: 'No text provided' })
      }
    })

    it('cuts long text at a word boundary and joins the pieces Groq synthesized into one WAV', async () => {
      t.mock.resetStats()
      const words = Array.from({ length: 120 }, (_, i) => `word${i}`).join(' ')
      const res = await speak(alice, { text: words })
      const body = res.json()
      expect(body).toMatchObject({ success: true, truncated: true, engine: 'Groq TTS' })
      const calls = t.mock.stats().byEndpoint['audio.speech']
      expect(calls).toBeGreaterThanOrEqual(Math.ceil(MAX_CHARS / MAX_INPUT))
      expect(calls).toBeLessThanOrEqual(Math.ceil(MAX_CHARS / MAX_INPUT) + 1)
      // One clip of the spoken characters (≤ MAX_CHARS, minus the spaces dropped between pieces).
      expect(body.duration).toBeGreaterThan((MAX_CHARS - 20) * 0.06)
      expect(body.duration).toBeLessThanOrEqual(MAX_CHARS * 0.06)
      const wav = (await t.app.inject({ url: body.audio_url })).rawPayload
      expect(wav.toString('ascii', 36, 40)).toBe('data')
      expect(wav.readUInt32LE(40)).toBe(wav.length - 44)
    })

    it('honours the language: Kannada text is reported as Kannada, unsupported codes become English', async () => {
      const kn = (await speak(alice, { text: 'ಕನ್ನಡ ಪಠ್ಯ', language: 'auto' })).json()
      expect(kn).toMatchObject({ success: true, language: 'kn', language_name: 'Kannada', engine: 'Groq TTS' })
      expect(kn.filename).toMatch(/^groq_kn_/)
      const fr = (await speak(alice, { text: 'Bonjour', language: 'fr' })).json()
      expect(fr).toMatchObject({ language: 'en', language_name: 'English' })
      const hi = (await speak(alice, { text: 'hello', language: 'hi' })).json()
      expect(hi).toMatchObject({ language: 'hi', language_name: 'Hindi' })
    })

    it('reports Groq rate limits, outages and timeouts as clear 200 failures, never hanging', async () => {
      t.mock.setOptions({ failNext: 1, failMode: '429', failEndpoints: ['audio.speech'], retryAfterSeconds: 7 })
      const limited = await speak(alice, { text: 'hello there' })
      expect(limited.statusCode).toBe(200)
      expect(limited.json()).toEqual({ success: false, message: 'The text-to-speech service is busy right now. Please try again in a moment.' })
      expect(limited.headers['retry-after']).toBe('7')

      t.mock.setOptions({ failNext: 1, failMode: '500', failEndpoints: ['audio.speech'] })
      const broken = await speak(alice, { text: 'hello there' })
      expect(broken.json()).toEqual({ success: false, message: 'The text-to-speech service is unavailable right now. Please try again later.' })

      t.mock.setOptions({ failNext: 1, failMode: 'stall', failEndpoints: ['audio.speech'] })
      const started = Date.now()
      const stalled = await speak(alice, { text: 'hello there' })
      expect(Date.now() - started).toBeLessThan(GROQ_TIMEOUT_MS + 4000)
      expect(stalled.json()).toEqual({ success: false, message: 'The text-to-speech service did not respond in time. Please try again.' })

      // And the next call works again.
      expect((await speak(alice, { text: 'hello there' })).json().success).toBe(true)
    })

    it('requires login', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/speak', payload: { text: 'hi' } })
      expect(res.statusCode).toBe(401)
      expect(res.json()).toEqual({ error: 'No authorization header' })
    })
  })

  describe('POST /transcribe', () => {
    it('transcribes with Whisper and reports the language and duration', async () => {
      const res = await transcribe(alice, wavWithTranscript('How long is the warranty?', 0.75))
      expect(res.statusCode).toBe(200)
      expect(res.json()).toEqual({ success: true, text: 'How long is the warranty?', language: 'en', duration: 0.75 })
    })

    it('passes the form language to Whisper and reports it', async () => {
      const res = await transcribe(alice, wavWithTranscript('नमस्ते'), { language: 'hi' })
      expect(res.json()).toMatchObject({ success: true, text: 'नमस्ते', language: 'hi' })
      // `auto` lets Whisper detect.
      const auto = await transcribe(alice, wavWithTranscript('hello'), { language: 'auto' })
      expect(auto.json()).toMatchObject({ success: true, language: 'en' })
    })

    it('accepts browser recordings (webm) and odd names', async () => {
      const res = await transcribe(alice, wavWithTranscript('from the browser'), {}, 'blob')
      expect(res.json()).toMatchObject({ success: true, text: 'from the browser' })
      const webm = await transcribe(alice, wavWithTranscript('webm too'), {}, 'recording.webm')
      expect(webm.json()).toMatchObject({ success: true, text: 'webm too' })
    })

    it('answers the documented messages for missing audio', async () => {
      const noFile = multipart({ language: 'en' })
      const missing = await t.app.inject({ method: 'POST', url: '/transcribe', headers: { ...alice.headers, ...noFile.headers }, payload: noFile.payload })
      expect(missing.statusCode).toBe(200)
      expect(missing.json()).toEqual({ success: false, message: 'No audio file provided' })

      const otherField = multipart({}, [{ field: 'file', filename: 'a.wav', bytes: wavWithTranscript('x') }])
      const wrong = await t.app.inject({ method: 'POST', url: '/transcribe', headers: { ...alice.headers, ...otherField.headers }, payload: otherField.payload })
      expect(wrong.json()).toEqual({ success: false, message: 'No audio file provided' })

      const unnamed = multipart({}, [{ field: 'audio', filename: '', bytes: Buffer.alloc(0) }])
      const empty = await t.app.inject({ method: 'POST', url: '/transcribe', headers: { ...alice.headers, ...unnamed.headers }, payload: unnamed.payload })
      expect(empty.statusCode).toBe(200)
      expect(empty.json()).toEqual({ success: false, message: 'No file selected' })

      const json = await t.app.inject({ method: 'POST', url: '/transcribe', headers: alice.headers, payload: { audio: 'x' } })
      expect(json.json()).toEqual({ success: false, message: 'No audio file provided' })
    })

    it('refuses audio over 25 MB with a 413 JSON (multipart truncates silently)', async () => {
      t.mock.resetStats()
      const res = await transcribe(alice, Buffer.alloc(MAX_AUDIO_UPLOAD_BYTES + 1, 1))
      expect(res.statusCode).toBe(413)
      expect(res.json()).toEqual({ success: false, message: 'Audio file too large. Maximum size is 25MB.' })
      expect(t.mock.stats().byEndpoint['audio.transcriptions']).toBe(0)
      // Exactly 25 MB is accepted.
      const edge = Buffer.alloc(MAX_AUDIO_UPLOAD_BYTES, 1)
      wavWithTranscript('edge').copy(edge)
      expect((await transcribe(alice, edge)).json()).toMatchObject({ success: true, text: 'edge' })
    })

    it('reports Groq failures clearly', async () => {
      t.mock.setOptions({ failNext: 1, failMode: '429', failEndpoints: ['audio.transcriptions'] })
      expect((await transcribe(alice, wavWithTranscript('x'))).json()).toEqual({ success: false, message: 'The speech-to-text service is busy right now. Please try again in a moment.' })
      t.mock.setOptions({ failNext: 1, failMode: 'stall', failEndpoints: ['audio.transcriptions'] })
      const started = Date.now()
      expect((await transcribe(alice, wavWithTranscript('x'))).json()).toEqual({ success: false, message: 'The speech-to-text service did not respond in time. Please try again.' })
      expect(Date.now() - started).toBeLessThan(5000)
    })

    it('requires login, so nobody spends the service\'s Groq quota anonymously', async () => {
      const body = multipart({}, [{ field: 'audio', filename: 'a.wav', bytes: wavWithTranscript('x') }])
      const res = await t.app.inject({ method: 'POST', url: '/transcribe', headers: body.headers, payload: body.payload })
      expect(res.statusCode).toBe(401)
      expect(res.json()).toEqual({ error: 'No authorization header' })
    })
  })

  describe('GET /tts/languages and /tts/engines', () => {
    it('lists the languages publicly', async () => {
      const res = await t.app.inject({ url: '/tts/languages' })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toEqual({ success: true, languages: { en: 'English', kn: 'Kannada', hi: 'Hindi' }, total: 3 })
    })

    it('reports the engines this service really has, in the shape the UI reads, per user plan', async () => {
      const res = await t.app.inject({ url: '/tts/engines', headers: alice.headers })
      expect(res.statusCode).toBe(200)
      const body = res.json()
      expect(Object.keys(body.engines)).toEqual(['auto', 'gtts', 'azure', 'coqui'])
      expect(body.engines.auto).toMatchObject({ name: 'Auto (Smart Selection)', available: true, quality: 'mixed', free: true })
      expect(body.engines.gtts.available).toBe(false)
      expect(body.engines.coqui.available).toBe(false)
      expect(body.engines.azure).toMatchObject({ available: false, premium_only: true, accessible: false, reason: 'Premium feature - upgrade to access', free: false })
      expect(body).toMatchObject({ user_plan: 'free', azure_configured: false })
      expect(body.speech_engines.groq).toEqual({ name: 'Groq TTS', available: true, languages: ['en'] })
      expect(body.speech_engines.espeak.available).toBe(false)

      await db.query("UPDATE user_plans SET plan_type = 'premium' WHERE user_id = $1", [bob.id])
      const premium = (await t.app.inject({ url: '/tts/engines', headers: bob.headers })).json()
      expect(premium.user_plan).toBe('premium')
      expect(premium.engines.azure.accessible).toBe(true)
      expect(premium.engines.azure.reason).toBeUndefined()
      // Alice's view did not change.
      expect((await t.app.inject({ url: '/tts/engines', headers: alice.headers })).json().user_plan).toBe('free')
      expect((await t.app.inject({ url: '/tts/engines' })).statusCode).toBe(401)
    })
  })

  describe('background answer audio (the /ask `audio` object)', () => {
    it('announces a URL at once; HEAD answers 404 until the file exists, then 200, and it speaks the answer', async () => {
      t.mock.setOptions({ latencyMs: 300 })
      const audio = t.app.speech.scheduleAnswerAudio({ userId: alice.id, text: 'The **answer** is [Page 2] forty-two.', language: 'auto' })
      expect(audio).not.toBeNull()
      expect(audio!.generating).toBe(true)
      expect(audio!.url).toBe(`/audio/auto_${audio!.audio_id}.wav`)
      expect(audio!.audio_id).toMatch(/^[0-9a-f]{32}$/)
      expect((await t.app.inject({ method: 'HEAD', url: audio!.url })).statusCode).toBe(404)
      await waitFor(async () => (await t.app.inject({ method: 'HEAD', url: audio!.url })).statusCode === 200)
      const wav = (await t.app.inject({ url: audio!.url })).rawPayload
      t.mock.setOptions({ latencyMs: 0 })
      expect((await transcribe(alice, wav)).json().text).toBe('The answer is Page 2 forty-two.')
      expect(await owner(`auto_${audio!.audio_id}.wav`)).toBe(alice.id)
    })

    it('runs at most TTS_CONCURRENCY jobs at once and refuses beyond TTS_QUEUE_MAX waiting (audio: null)', async () => {
      t.mock.setOptions({ latencyMs: 400 })
      t.mock.resetStats()
      const first = t.app.speech.scheduleAnswerAudio({ userId: alice.id, text: 'one', language: 'en' })
      const second = t.app.speech.scheduleAnswerAudio({ userId: alice.id, text: 'two', language: 'en' })
      const third = t.app.speech.scheduleAnswerAudio({ userId: alice.id, text: 'three', language: 'en' })
      expect(first).not.toBeNull()
      expect(second).not.toBeNull()
      expect(third).toBeNull()
      await waitFor(async () => t.mock.stats().inFlight === 1)
      await new Promise((resolve) => setTimeout(resolve, 150))
      expect(t.mock.stats().inFlight).toBe(1)
      await t.app.speech.drain()
      expect(t.mock.stats().byEndpoint['audio.speech']).toBe(2)
      for (const audio of [first, second]) expect((await t.app.inject({ method: 'HEAD', url: audio!.url })).statusCode).toBe(200)
    })

    it('logs a failed job and carries on: its URL never appears, the next one does', async () => {
      t.mock.setOptions({ failNext: 1, failMode: '500', failEndpoints: ['audio.speech'] })
      const failed = t.app.speech.scheduleAnswerAudio({ userId: alice.id, text: 'doomed', language: 'en' })
      await t.app.speech.drain()
      expect((await t.app.inject({ method: 'HEAD', url: failed!.url })).statusCode).toBe(404)
      const next = t.app.speech.scheduleAnswerAudio({ userId: alice.id, text: 'fine', language: 'en' })
      await t.app.speech.drain()
      expect((await t.app.inject({ method: 'HEAD', url: next!.url })).statusCode).toBe(200)
    })

    it('closing the app lets a running job finish, and abandons a stalled one after 2 s', async () => {
      const other = await buildTestApp({
        label: 'voice_close',
        env: { GROQ_API_KEY: 'test', GROQ_BASE_URL: t.mock.url, GROQ_MAX_RETRIES: '0', GROQ_TIMEOUT_MS: '20000', ESPEAK_NG_PATH: 'off', TTS_CONCURRENCY: '1' }
      })
      const carol = await createUser(other.app, 'carol')
      const check = new pg.Client({ connectionString: other.databaseUrl })
      await check.connect()
      try {
        t.mock.setOptions({ latencyMs: 300 })
        t.mock.resetStats()
        const running = other.app.speech.scheduleAnswerAudio({ userId: carol.id, text: 'almost done', language: 'en' })
        const waiting = other.app.speech.scheduleAnswerAudio({ userId: carol.id, text: 'never started', language: 'en' })
        await waitFor(async () => t.mock.stats().inFlight === 1)
        await other.app.close()
        const { rows } = await check.query<{ filename: string }>('SELECT filename FROM audio_files')
        expect(rows.map((r) => r.filename)).toEqual([`auto_${running!.audio_id}.wav`])
        expect(waiting).not.toBeNull()
        expect(t.mock.stats().byEndpoint['audio.speech']).toBe(1)
      } finally {
        await check.end()
      }

      const third = await buildTestApp({
        label: 'voice_close_stall',
        env: { GROQ_API_KEY: 'test', GROQ_BASE_URL: t.mock.url, GROQ_MAX_RETRIES: '0', GROQ_TIMEOUT_MS: '20000', ESPEAK_NG_PATH: 'off' }
      })
      const dave = await createUser(third.app, 'dave')
      t.mock.setOptions({ latencyMs: 0, failNext: 1, failMode: 'stall', failEndpoints: ['audio.speech'] })
      t.mock.resetStats()
      expect(third.app.speech.scheduleAnswerAudio({ userId: dave.id, text: 'stuck', language: 'en' })).not.toBeNull()
      await waitFor(async () => t.mock.stats().stalled === 1)
      const started = Date.now()
      await third.app.close()
      expect(Date.now() - started).toBeLessThan(4000)
      expect(third.app.speech.scheduleAnswerAudio({ userId: dave.id, text: 'after close', language: 'en' })).toBeNull()
      await other.close()
      await third.close()
    })
  })
})
