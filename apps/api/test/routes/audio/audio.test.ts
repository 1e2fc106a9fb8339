import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../../helpers/app.js'
import { createUser, wavWithTranscript, type TestUser } from '../../helpers/voice.js'
import { AUDIO_FILENAME_RE, newAudioId } from '../../../src/plugins/app/speech/audio-store.js'

describe('GET/HEAD /audio/:filename', () => {
  let t: TestApp
  let alice: TestUser
  let bob: TestUser
  const bytes = wavWithTranscript('hello range requests', 0.25)
  const filename = `groq_en_${newAudioId()}.wav`
  let url: string

  beforeAll(async () => {
    // A tiny default limit proves /audio is exempt from it.
    t = await buildTestApp({ label: 'audio', env: { RATE_LIMIT_DEFAULT: '3 per hour', ESPEAK_NG_PATH: 'off' } })
    alice = await createUser(t.app, 'alice')
    bob = await createUser(t.app, 'bob')
    await t.app.audioStore.save({ userId: alice.id, filename, bytes })
    url = `/audio/${filename}`
  })

  afterAll(async () => { await t?.close() })

  it('serves the whole file publicly with validators, ranges advertised and no caching without revalidation', async () => {
    const res = await t.app.inject({ url })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('audio/wav')
    expect(res.headers['content-length']).toBe(String(bytes.length))
    expect(res.headers['accept-ranges']).toBe('bytes')
    expect(res.headers['cache-control']).toBe('no-cache')
    expect(res.headers.etag).toMatch(/^"[\w-]+"$/)
    expect(new Date(String(res.headers['last-modified'])).getTime()).toBeGreaterThan(Date.now() - 60_000)
    expect(res.rawPayload.equals(bytes)).toBe(true)
  })

  it('answers HEAD with the headers and length of GET but no body', async () => {
    const res = await t.app.inject({ method: 'HEAD', url })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('audio/wav')
    expect(res.headers['content-length']).toBe(String(bytes.length))
    expect(res.headers['accept-ranges']).toBe('bytes')
    expect(res.rawPayload.length).toBe(0)
  })

  it('serves byte ranges with 206 and Content-Range', async () => {
    const res = await t.app.inject({ url, headers: { range: 'bytes=0-43' } })
    expect(res.statusCode).toBe(206)
    expect(res.headers['content-range']).toBe(`bytes 0-43/${bytes.length}`)
    expect(res.headers['content-length']).toBe('44')
    expect(res.rawPayload.equals(bytes.subarray(0, 44))).toBe(true)

    const open = await t.app.inject({ url, headers: { range: `bytes=${bytes.length - 10}-` } })
    expect(open.statusCode).toBe(206)
    expect(open.rawPayload.equals(bytes.subarray(bytes.length - 10))).toBe(true)

    const suffix = await t.app.inject({ url, headers: { range: 'bytes=-7' } })
    expect(suffix.statusCode).toBe(206)
    expect(suffix.headers['content-range']).toBe(`bytes ${bytes.length - 7}-${bytes.length - 1}/${bytes.length}`)
    expect(suffix.rawPayload.equals(bytes.subarray(bytes.length - 7))).toBe(true)

    // An end past the file is clamped (the browser's "bytes=0-" probing style).
    const clamped = await t.app.inject({ url, headers: { range: `bytes=100-${bytes.length + 500}` } })
    expect(clamped.statusCode).toBe(206)
    expect(clamped.rawPayload.equals(bytes.subarray(100))).toBe(true)
  })

  it('answers 416 with the size for unsatisfiable ranges, and ignores malformed or multiple ranges', async () => {
    const res = await t.app.inject({ url, headers: { range: `bytes=${bytes.length}-` } })
    expect(res.statusCode).toBe(416)
    expect(res.headers['content-range']).toBe(`bytes */${bytes.length}`)
    expect(res.json()).toEqual({ success: false, message: 'Requested range not satisfiable' })

    expect((await t.app.inject({ url, headers: { range: 'bytes=-0' } })).statusCode).toBe(416)
    for (const range of ['items=0-5', 'bytes=0-5,10-20', 'bytes=9-3']) {
      const full = await t.app.inject({ url, headers: { range } })
      expect(full.statusCode, range).toBe(200)
      expect(full.rawPayload.length).toBe(bytes.length)
    }
  })

  it('honours If-Range: a stale validator gets the whole file', async () => {
    const etag = String((await t.app.inject({ method: 'HEAD', url })).headers.etag)
    const fresh = await t.app.inject({ url, headers: { range: 'bytes=0-9', 'if-range': etag } })
    expect(fresh.statusCode).toBe(206)
    const stale = await t.app.inject({ url, headers: { range: 'bytes=0-9', 'if-range': '"something-else"' } })
    expect(stale.statusCode).toBe(200)
    expect(stale.rawPayload.length).toBe(bytes.length)
  })

  it('answers conditional requests with 304', async () => {
    const first = await t.app.inject({ url })
    const etag = String(first.headers.etag)
    const lastModified = String(first.headers['last-modified'])

    const byEtag = await t.app.inject({ url, headers: { 'if-none-match': etag } })
    expect(byEtag.statusCode).toBe(304)
    expect(byEtag.rawPayload.length).toBe(0)
    expect(byEtag.headers.etag).toBe(etag)

    expect((await t.app.inject({ method: 'HEAD', url, headers: { 'if-none-match': `"x", ${etag}` } })).statusCode).toBe(304)
    expect((await t.app.inject({ url, headers: { 'if-modified-since': lastModified } })).statusCode).toBe(304)
    expect((await t.app.inject({ url, headers: { 'if-none-match': '"other"', 'if-modified-since': lastModified } })).statusCode).toBe(200)
    expect((await t.app.inject({ url, headers: { 'if-modified-since': new Date(Date.now() - 3_600_000).toUTCString() } })).statusCode).toBe(200)
  })

  it('answers 404 JSON with CORS headers, so the cross-origin poll can read it', async () => {
    const origin = 'http://localhost:5173'
    for (const method of ['GET', 'HEAD'] as const) {
      const res = await t.app.inject({ method, url: `/audio/auto_${newAudioId()}.wav`, headers: { origin } })
      expect(res.statusCode).toBe(404)
      expect(res.headers['access-control-allow-origin']).toBe(origin)
      expect(res.headers['access-control-allow-credentials']).toBe('true')
      if (method === 'GET') expect(res.json()).toEqual({ success: false, message: 'Audio file not found' })
    }
    const found = await t.app.inject({ url, headers: { origin } })
    expect(found.headers['access-control-allow-origin']).toBe(origin)
    expect(found.headers['cross-origin-resource-policy']).toBe('cross-origin')
    const preflight = await t.app.inject({ method: 'OPTIONS', url, headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'range' } })
    expect(preflight.statusCode).toBe(204)
    expect(String(preflight.headers['access-control-allow-headers'])).toMatch(/Range/)
  })

  it('refuses path traversal and names not shaped like ours with 404', async () => {
    const probes = ['..', '%2e%2e', '..%2f..%2fetc%2fpasswd', '%2e%2e%2fpackage.json', '.wav', 'a.txt', `${filename}%00.wav`, 'AUTO_X.WAV', 'auto_x.wav.exe', 'auto x.wav']
    for (const probe of probes) {
      const res = await t.app.inject({ url: `/audio/${probe}` })
      expect(res.statusCode, probe).toBe(404)
    }
  })

  it('is exempt from the per-IP default limit (the UI polls HEAD every 500 ms)', async () => {
    for (let i = 0; i < 12; i++) {
      const res = await t.app.inject({ method: 'HEAD', url })
      expect(res.statusCode).toBe(200)
    }
    // The default (3 per hour here) still applies elsewhere.
    const codes = []
    for (let i = 0; i < 4; i++) codes.push((await t.app.inject({ url: '/tts/languages' })).statusCode)
    expect(codes).toEqual([200, 200, 200, 429])
  })

  it('serves a file to anyone holding the URL, but names are unguessable', async () => {
    // Public by URL: the <audio> element carries no token. Bob (or nobody) can fetch Alice's URL...
    expect((await t.app.inject({ url, headers: bob.headers })).statusCode).toBe(200)
    // ...but the name carries 128 random bits, and another user cannot take the name over.
    expect(filename).toMatch(/_[0-9a-f]{32}\.wav$/)
    expect(filename).toMatch(AUDIO_FILENAME_RE)
    const ids = new Set(Array.from({ length: 1000 }, () => newAudioId()))
    expect(ids.size).toBe(1000)
    await expect(t.app.audioStore.save({ userId: bob.id, filename, bytes: Buffer.from('evil') })).rejects.toThrow(/another user/)
    expect((await t.app.inject({ url })).rawPayload.equals(bytes)).toBe(true)
  })

  it('deletes files after 24 hours: expired files read as missing and the sweep removes them', async () => {
    const old = `espeak_en_${newAudioId()}.wav`
    const young = `espeak_en_${newAudioId()}.wav`
    await t.app.audioStore.save({ userId: alice.id, filename: old, bytes })
    await t.app.audioStore.save({ userId: alice.id, filename: young, bytes })
    const db = new pg.Client({ connectionString: t.databaseUrl })
    await db.connect()
    try {
      await db.query("UPDATE audio_files SET created_at = now() - interval '24 hours 1 minute' WHERE filename = $1", [old])
      await db.query("UPDATE audio_files SET created_at = now() - interval '23 hours' WHERE filename = $1", [young])
      // Expired but not yet swept: already gone for clients.
      expect((await t.app.inject({ method: 'HEAD', url: `/audio/${old}` })).statusCode).toBe(404)
      expect(await t.app.audioStore.sweep()).toBe(1)
      const { rows } = await db.query<{ filename: string }>('SELECT filename FROM audio_files WHERE filename = ANY($1)', [[old, young]])
      expect(rows.map((r) => r.filename)).toEqual([young])
      expect((await t.app.inject({ method: 'HEAD', url: `/audio/${young}` })).statusCode).toBe(200)
    } finally {
      await db.end()
    }
  })

  it('sweeps expired files at boot', async () => {
    const stale = `groq_en_${newAudioId()}.wav`
    await t.app.audioStore.save({ userId: alice.id, filename: stale, bytes })
    const db = new pg.Client({ connectionString: t.databaseUrl })
    await db.connect()
    try {
      await db.query("UPDATE audio_files SET created_at = now() - interval '25 hours' WHERE filename = $1", [stale])
      // A second worker booting on the same database runs the sweep.
      const { buildApp } = await import('../../../src/app.js')
      const second = await buildApp({ ...t.config, migrateOnBoot: false })
      await second.close()
      const { rows } = await db.query('SELECT 1 FROM audio_files WHERE filename = $1', [stale])
      expect(rows).toHaveLength(0)
    } finally {
      await db.end()
    }
  })

  it('removes a user\'s audio with the account', async () => {
    const carol = await createUser(t.app, 'carol')
    const name = `groq_en_${newAudioId()}.wav`
    await t.app.audioStore.save({ userId: carol.id, filename: name, bytes })
    await t.app.usersRepository.delete(carol.id)
    expect((await t.app.inject({ method: 'HEAD', url: `/audio/${name}` })).statusCode).toBe(404)
  })
})
