import { execFile } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildGroqTestApp, buildTestApp, type GroqTestApp, type TestApp } from '../../../helpers/app.js'
import { createUser, fakeEspeak, waitFor, type TestUser } from '../../../helpers/voice.js'

// The local engine. A stand-in espeak-ng shows exactly how the service drives the binary; the last
// test uses whatever this machine really has.

function noteOf (wav: Buffer): string {
  const at = wav.indexOf('VOICE:')
  return at < 0 ? '' : wav.subarray(at, wav.indexOf(0, at)).toString('utf8')
}

describe('espeak-ng as the speech engine', () => {
  let t: TestApp
  let alice: TestUser

  beforeAll(async () => {
    t = await buildTestApp({ label: 'voice_espeak', env: { ESPEAK_NG_PATH: await fakeEspeak() } })
    alice = await createUser(t.app, 'alice')
  })

  afterAll(async () => { await t?.close() })

  it('is detected at boot and listed with its version', async () => {
    const body = (await t.app.inject({ url: '/tts/engines', headers: alice.headers })).json()
    expect(body.engines.auto.available).toBe(true)
    expect(body.speech_engines.espeak).toEqual({ name: 'espeak-ng', available: true, languages: ['en', 'kn', 'hi'], version: 'eSpeak NG text-to-speech: 1.51-fake  Data at: /fake' })
    expect(body.speech_engines.groq.available).toBe(false)
  })

  it('synthesizes /speak without a Groq key, text through stdin with the language\'s voice', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/speak', headers: alice.headers, payload: { text: '-v this starts with a dash', language: 'en' } })
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body).toMatchObject({ success: true, engine: 'espeak-ng', language: 'en', language_name: 'English', duration: 1 })
    expect(body.filename).toMatch(/^espeak_en_[0-9a-f]{32}\.wav$/)
    const wav = (await t.app.inject({ url: body.audio_url })).rawPayload
    const note = noteOf(wav)
    expect(note).toContain('VOICE:en-us ')
    expect(note).toContain('TRANSCRIPT:-v this starts with a dash')
    // The text never reaches argv, so it cannot be read as an option.
    expect(note).not.toMatch(/ARGS:[^T]*this starts/)

    const kn = (await t.app.inject({ method: 'POST', url: '/speak', headers: alice.headers, payload: { text: 'ಕನ್ನಡ ಪಠ್ಯ' } })).json()
    expect(kn).toMatchObject({ success: true, language: 'kn', engine: 'espeak-ng' })
    const knNote = noteOf((await t.app.inject({ url: kn.audio_url })).rawPayload)
    expect(knNote).toContain('VOICE:kn ')
    expect(knNote).toContain('TRANSCRIPT:ಕನ್ನಡ ಪಠ್ಯ')
  })

  it('produces the /ask answer audio in the background', async () => {
    const audio = t.app.speech.scheduleAnswerAudio({ userId: alice.id, text: 'नमस्ते **दुनिया**', language: 'auto' })
    expect(audio).not.toBeNull()
    await waitFor(async () => (await t.app.inject({ method: 'HEAD', url: audio!.url })).statusCode === 200)
    const note = noteOf((await t.app.inject({ url: audio!.url })).rawPayload)
    expect(note).toContain('VOICE:hi ')
    expect(note).toContain('TRANSCRIPT:नमस्ते दुनिया')
  })

  it('reports an engine failure as a 200 failure', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/speak', headers: alice.headers, payload: { text: 'please FAIL now' } })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ success: false, message: 'The text-to-speech engine failed (exit code 2).' })
  })
})

describe('espeak-ng next to Groq', () => {
  let t: GroqTestApp
  let alice: TestUser

  beforeAll(async () => {
    t = await buildGroqTestApp({ label: 'voice_both', env: { GROQ_TIMEOUT_MS: '1000', ESPEAK_NG_PATH: await fakeEspeak() } })
    alice = await createUser(t.app, 'alice')
  })

  afterAll(async () => { await t?.close() })

  it('speaks English with Groq, Kannada and Hindi with espeak-ng (Groq\'s voices are English)', async () => {
    const en = (await t.app.inject({ method: 'POST', url: '/speak', headers: alice.headers, payload: { text: 'hello' } })).json()
    expect(en.engine).toBe('Groq TTS')
    const hi = (await t.app.inject({ method: 'POST', url: '/speak', headers: alice.headers, payload: { text: 'hello', language: 'hi' } })).json()
    expect(hi.engine).toBe('espeak-ng')
  })

  it('falls back to espeak-ng when Groq fails, and says so', async () => {
    t.mock.setOptions({ failNext: 1, failMode: '500', failEndpoints: ['audio.speech'] })
    const res = (await t.app.inject({ method: 'POST', url: '/speak', headers: alice.headers, payload: { text: 'hello again' } })).json()
    expect(res).toMatchObject({ success: true, engine: 'espeak-ng', language: 'en' })
  })
})

describe('the espeak-ng of this machine', () => {
  it('is used exactly when it is installed (default ESPEAK_NG_PATH)', async () => {
    const installed = await new Promise<boolean>((resolve) => {
      execFile('espeak-ng', ['--version'], { timeout: 3000 }, (err) => resolve(err === null))
    })
    const t = await buildTestApp({ label: 'voice_real_espeak' })
    try {
      const alice = await createUser(t.app, 'alice')
      expect(t.app.speech.engines.espeak !== null).toBe(installed)
      const res = await t.app.inject({ method: 'POST', url: '/speak', headers: alice.headers, payload: { text: 'Hello from the local engine.' } })
      if (installed) {
        expect(res.json()).toMatchObject({ success: true, engine: 'espeak-ng', language: 'en' })
        const wav = (await t.app.inject({ url: res.json().audio_url })).rawPayload
        expect(wav.toString('ascii', 0, 4)).toBe('RIFF')
        expect(res.json().duration).toBeGreaterThan(0.5)
      } else {
        expect(res.statusCode).toBe(503)
      }
    } finally {
      await t.close()
    }
  })
})
