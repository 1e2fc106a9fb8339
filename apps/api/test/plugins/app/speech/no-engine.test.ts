import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../../../helpers/app.js'
import { addDocument, createUser, multipart, wavWithTranscript, type TestUser } from '../../../helpers/voice.js'
import { SPEECH_UNAVAILABLE_MESSAGE, TRANSCRIPTION_UNAVAILABLE_MESSAGE } from '../../../../src/plugins/app/speech/speech.js'

// No GROQ_API_KEY and no espeak-ng (a path that does not exist, so the result does not depend on the machine).

describe('voice without any speech engine', () => {
  let t: TestApp
  let alice: TestUser

  beforeAll(async () => {
    t = await buildTestApp({ label: 'voice_none', redis: false, env: { ESPEAK_NG_PATH: '/nonexistent/espeak-ng' } })
    alice = await createUser(t.app, 'alice')
    await addDocument(t.app, alice.id, 'manual', ['The warranty covers parts and labour for two years.'])
  })

  afterAll(async () => { await t?.close() })

  it('answers /speak with a clear 503', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/speak', headers: alice.headers, payload: { text: 'hello' } })
    expect(res.statusCode).toBe(503)
    expect(res.json()).toEqual({ success: false, message: SPEECH_UNAVAILABLE_MESSAGE })
    // Empty text is still a 200 {success:false} failure.
    expect((await t.app.inject({ method: 'POST', url: '/speak', headers: alice.headers, payload: { text: ' ' } })).json())
      .toEqual({ success: false, message: 'No text provided' })
  })

  it('answers /transcribe and /voice-query with a clear 503, without reading the upload', async () => {
    for (const url of ['/transcribe', '/voice-query']) {
      const body = multipart({}, [{ field: 'audio', filename: 'a.wav', bytes: wavWithTranscript('hello') }])
      const res = await t.app.inject({ method: 'POST', url, headers: { ...alice.headers, ...body.headers }, payload: body.payload })
      expect(res.statusCode, url).toBe(503)
      expect(res.json()).toEqual({ success: false, message: TRANSCRIPTION_UNAVAILABLE_MESSAGE })
    }
    expect(await t.app.queryQuota.peek(alice.id)).toMatchObject({ used: 0 })
  })

  it('answers /ask with `audio: null`, which the UI treats as "no player" (it reads audio?.url)', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/ask', headers: alice.headers, payload: { question: 'How long is the warranty?', language: 'auto' } })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ success: true, audio: null })
    expect(res.json().answer).toContain('two years')
    expect(t.app.speech.scheduleAnswerAudio({ userId: alice.id, text: 'x', language: 'en' })).toBeNull()
  })

  it('reports no engine as available', async () => {
    const body = (await t.app.inject({ url: '/tts/engines', headers: alice.headers })).json()
    expect(body.success).toBe(true)
    for (const id of ['auto', 'gtts', 'azure', 'coqui']) expect(body.engines[id].available, id).toBe(false)
    expect(body.speech_engines.groq.available).toBe(false)
    expect(body.speech_engines.espeak.available).toBe(false)
    // The language list does not depend on an engine.
    expect((await t.app.inject({ url: '/tts/languages' })).json().total).toBe(3)
  })
})
