import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import Groq, {
  APIConnectionTimeoutError, AuthenticationError, InternalServerError, NotFoundError, RateLimitError, toFile
} from 'groq-sdk'
import {
  DEFAULT_TRANSCRIPT, MOCK_HEADERS, buildAnswer, encodeWav, parseWav, readPcm16, startGroqMock
} from '../src/index.js'
import type { GroqMock } from '../src/index.js'
import { parseMultipart } from '../src/multipart.js'

const CHAT_MODEL = 'llama-3.1-8b-instant'

const CONTEXT = [
  'Answer using only the context below and cite pages.',
  '',
  '[Page 1] The warranty covers manufacturing defects for two years. It does not cover water damage.',
  '',
  '[Page 2] To reset the router, hold the reset button for ten seconds. The lights will blink green when done.',
  '',
  '[Page 3] Customer support is available on weekdays from 9am to 5pm.'
].join('\n')

let mock: GroqMock
let groq: Groq

function client (opts: { timeout?: number, maxRetries?: number } = {}): Groq {
  return new Groq({ apiKey: 'test', baseURL: mock.url, maxRetries: opts.maxRetries ?? 0, timeout: opts.timeout ?? 10_000 })
}

beforeAll(async () => {
  mock = await startGroqMock({ port: 0 })
  groq = client()
})

afterAll(async () => {
  await mock.close()
})

afterEach(() => {
  mock.setOptions({ latencyMs: 0, jitterMs: 0, failRate: 0, failNext: 0, failMode: '500', failEndpoints: [], requireAuth: true })
})

async function collectStream (messages: Groq.Chat.ChatCompletionMessageParam[]): Promise<{ text: string, chunks: Groq.Chat.ChatCompletionChunk[] }> {
  const stream = await groq.chat.completions.create({ model: CHAT_MODEL, messages, stream: true })
  const chunks: Groq.Chat.ChatCompletionChunk[] = []
  let text = ''
  for await (const chunk of stream) {
    chunks.push(chunk)
    text += chunk.choices[0]?.delta.content ?? ''
  }
  return { text, chunks }
}

describe('chat completions', () => {
  it('returns an OpenAI/Groq-shaped completion that echoes the model', async () => {
    const res = await groq.chat.completions.create({
      model: 'llama-3.3-70b-versatile',
      messages: [{ role: 'user', content: 'Hello   there,\nmock!' }]
    })
    expect(res.object).toBe('chat.completion')
    expect(res.model).toBe('llama-3.3-70b-versatile')
    expect(typeof res.id).toBe('string')
    expect(typeof res.created).toBe('number')
    expect(res.choices).toHaveLength(1)
    expect(res.choices[0]?.index).toBe(0)
    expect(res.choices[0]?.finish_reason).toBe('stop')
    expect(res.choices[0]?.message.role).toBe('assistant')
    // No [Page N] context: deterministic echo of the last user message.
    expect(res.choices[0]?.message.content).toBe('Mock answer: Hello there, mock!')
    expect(res.usage?.prompt_tokens).toBeGreaterThan(0)
    expect(res.usage?.completion_tokens).toBeGreaterThan(0)
    expect(res.usage?.total_tokens).toBe((res.usage?.prompt_tokens ?? 0) + (res.usage?.completion_tokens ?? 0))
  })

  it('answers from the most relevant [Page N] chunk and cites it (system context)', async () => {
    const res = await groq.chat.completions.create({
      model: CHAT_MODEL,
      messages: [
        { role: 'system', content: CONTEXT },
        { role: 'user', content: 'How do I reset my router?' }
      ]
    })
    expect(res.choices[0]?.message.content).toBe(
      'According to the documents: To reset the router, hold the reset button for ten seconds. [Page 2]'
    )
  })

  it('picks the best sentence within the chunk and handles context + Question: in the user message', async () => {
    const res = await groq.chat.completions.create({
      model: CHAT_MODEL,
      messages: [
        { role: 'system', content: 'You are a helpful assistant.' },
        { role: 'user', content: `Context:\n${CONTEXT}\n\nQuestion: Is water damage covered?` }
      ]
    })
    expect(res.choices[0]?.message.content).toBe('According to the documents: It does not cover water damage. [Page 1]')
  })

  it('falls back to the first sentence of the first chunk when nothing overlaps', () => {
    const a = buildAnswer([{ role: 'system', content: CONTEXT }, { role: 'user', content: 'Zebra?' }])
    expect(a.kind).toBe('grounded')
    expect(a.content).toBe('According to the documents: The warranty covers manufacturing defects for two years. [Page 1]')
  })

  it('ignores [Page N] tags in assistant history and older user turns', () => {
    const a = buildAnswer([
      { role: 'user', content: '[Page 9] Old context about bananas.' },
      { role: 'assistant', content: 'According to the documents: Old context about bananas. [Page 9]' },
      { role: 'user', content: 'Tell me about bananas' }
    ])
    expect(a.kind).toBe('echo')
    expect(a.content).toBe('Mock answer: Tell me about bananas')
  })

  it('accepts other bracketed page tags verbatim and ends chunks at Question:/closing-tag lines', () => {
    const a = buildAnswer([{
      role: 'user',
      content: '<context>\n[manual.pdf, page 12]: Blue cables carry power.\n[manual.pdf, page 13] - Red cables carry data.\n</context>\nQuestion: which cables carry data?'
    }])
    expect(a.question).toBe('which cables carry data?')
    expect(a.content).toBe('According to the documents: Red cables carry data. [manual.pdf, page 13]')
    expect(a.chunk?.page).toBe(13)
    expect(a.chunk?.text).toBe('Red cables carry data.')
  })

  it('accepts content given as an array of text parts', () => {
    const a = buildAnswer([{ role: 'user', content: [{ type: 'text', text: '[Page 5] Ships float.' }, { type: 'text', text: 'Question: do ships float?' }] }])
    expect(a.content).toBe('According to the documents: Ships float. [Page 5]')
  })

  it('streams chat.completion.chunk events whose deltas add up to the non-streamed answer', async () => {
    const messages: Groq.Chat.ChatCompletionMessageParam[] = [
      { role: 'system', content: CONTEXT },
      { role: 'user', content: 'When is customer support available?' }
    ]
    const full = await groq.chat.completions.create({ model: CHAT_MODEL, messages })
    const { text, chunks } = await collectStream(messages)
    expect(text).toBe(full.choices[0]?.message.content)
    expect(text).toContain('[Page 3]')
    expect(chunks.length).toBeGreaterThan(3)
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === CHAT_MODEL)).toBe(true)
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant')
    const last = chunks[chunks.length - 1]
    expect(last?.choices[0]?.finish_reason).toBe('stop')
    expect(last?.x_groq?.usage?.completion_tokens).toBeGreaterThan(0)
    expect(chunks.slice(0, -1).every((c) => c.choices[0]?.finish_reason === null)).toBe(true)
    expect(mock.stats().streamed).toBeGreaterThan(0)
  })

  it('truncates to max_tokens with finish_reason "length"', async () => {
    const res = await groq.chat.completions.create({
      model: CHAT_MODEL,
      max_tokens: 2,
      messages: [{ role: 'user', content: 'a rather long question that yields a long echo' }]
    })
    expect(res.choices[0]?.finish_reason).toBe('length')
    expect(res.choices[0]?.message.content).toBe('Mock ans')
  })

  it('rejects a request without messages with 400', async () => {
    const r = await fetch(`${mock.url}/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer x', 'content-type': 'application/json' },
      body: JSON.stringify({ model: CHAT_MODEL })
    })
    expect(r.status).toBe(400)
    const body = await r.json() as { error: { message: string, type: string } }
    expect(body.error.type).toBe('invalid_request_error')
  })
})

describe('audio', () => {
  it('transcribes the TRANSCRIPT: marker embedded in an uploaded WAV', async () => {
    const samples = new Int16Array(16000)
    const marker = Buffer.from('TRANSCRIPT:What is the refund policy?\0', 'utf8')
    const wav = encodeWav(samples, { sampleRate: 16000, trailingChunks: [{ id: 'note', data: marker }] })
    const res = await groq.audio.transcriptions.create({
      model: 'whisper-large-v3-turbo',
      file: await toFile(wav, 'question.wav', { type: 'audio/wav' })
    })
    expect(res.text).toBe('What is the refund policy?')
  })

  it('returns verbose_json with language and duration, and a fixed sentence without marker', async () => {
    const wav = encodeWav(new Int16Array(8000), { sampleRate: 16000 })
    const res = await groq.audio.transcriptions.create({
      model: 'whisper-large-v3',
      file: await toFile(wav, 'silence.wav', { type: 'audio/wav' }),
      language: 'de',
      response_format: 'verbose_json'
    }) as unknown as { text: string, language: string, duration: number }
    expect(res.text).toBe(DEFAULT_TRANSCRIPT)
    expect(res.language).toBe('de')
    expect(res.duration).toBeCloseTo(0.5, 3)
  })

  it('reads the marker from a plain text upload', async () => {
    const res = await groq.audio.transcriptions.create({
      model: 'whisper-large-v3-turbo',
      file: await toFile(Buffer.from('junk TRANSCRIPT: héllo wörld \nignored'), 'x.txt')
    })
    expect(res.text).toBe('héllo wörld')
  })

  it('synthesises speech as a valid, non-silent 16-bit mono WAV that round-trips through transcription', async () => {
    const input = 'Hello from the mock.'
    const resp = await groq.audio.speech.create({ model: 'playai-tts', voice: 'Fritz-PlayAI', input, response_format: 'wav' })
    expect(resp.headers.get('content-type')).toBe('audio/wav')
    const buf = Buffer.from(await resp.arrayBuffer())
    expect(buf.toString('ascii', 0, 4)).toBe('RIFF')
    expect(buf.toString('ascii', 8, 12)).toBe('WAVE')
    const wav = parseWav(buf)
    expect(wav).not.toBeNull()
    if (wav === null) return
    expect(wav.riffSize).toBe(buf.length - 8)
    expect(wav.audioFormat).toBe(1)
    expect(wav.channels).toBe(1)
    expect(wav.bitsPerSample).toBe(16)
    expect(wav.sampleRate).toBe(22050)
    expect(wav.byteRate).toBe(22050 * 2)
    expect(wav.dataOffset).toBe(44)
    expect(buf.readUInt32LE(40)).toBe(wav.dataSize)
    // ~60 ms per character.
    const expectedSamples = Math.round(input.length * 0.06 * 22050)
    expect(wav.dataSize).toBe(expectedSamples * 2)
    expect(wav.dataOffset + wav.dataSize).toBeLessThanOrEqual(buf.length)
    const pcm = readPcm16(buf, wav)
    let peak = 0
    let nonZero = 0
    for (const s of pcm) {
      peak = Math.max(peak, Math.abs(s))
      if (s !== 0) nonZero++
    }
    expect(peak).toBeGreaterThan(5000)
    expect(nonZero / pcm.length).toBeGreaterThan(0.9)

    const back = await groq.audio.transcriptions.create({
      model: 'whisper-large-v3-turbo',
      file: await toFile(buf, 'speech.wav', { type: 'audio/wav' })
    })
    expect(back.text).toBe(input)
  })

  it('caps speech length and honours sample_rate', async () => {
    mock.setOptions({ speechMaxMs: 1000 })
    try {
      const resp = await groq.audio.speech.create({ model: 'playai-tts', voice: 'x', input: 'x'.repeat(500), sample_rate: 16000 })
      const wav = parseWav(Buffer.from(await resp.arrayBuffer()))
      expect(wav?.sampleRate).toBe(16000)
      expect(wav?.duration).toBeCloseTo(1, 3)
    } finally {
      mock.setOptions({ speechMaxMs: 30_000 })
    }
  })
})

describe('models', () => {
  it('lists models including chat, whisper and tts', async () => {
    const page = await groq.models.list()
    const ids = page.data.map((m) => m.id)
    expect(ids).toContain('llama-3.1-8b-instant')
    expect(ids).toContain('whisper-large-v3-turbo')
    expect(ids).toContain('playai-tts')
    const m = await groq.models.retrieve('whisper-large-v3')
    expect(m.id).toBe('whisper-large-v3')
    await expect(groq.models.retrieve('nope')).rejects.toBeInstanceOf(NotFoundError)
  })
})

describe('errors, auth and failure injection', () => {
  it('surfaces an injected 429 with retry-after as RateLimitError', async () => {
    mock.setOptions({ failMode: '429', failNext: 1, retryAfterSeconds: 7 })
    const err = await groq.chat.completions.create({ model: CHAT_MODEL, messages: [{ role: 'user', content: 'hi' }] })
      .then(() => null, (e: unknown) => e)
    expect(err).toBeInstanceOf(RateLimitError)
    const e = err as RateLimitError
    expect(e.status).toBe(429)
    expect(e.headers?.get('retry-after')).toBe('7')
    expect((e.error as { error?: { code?: string } }).error?.code).toBe('rate_limit_exceeded')
  })

  it('surfaces a 500 (forced by header for one call) as InternalServerError', async () => {
    const err = await groq.chat.completions.create(
      { model: CHAT_MODEL, messages: [{ role: 'user', content: 'hi' }] },
      { headers: { [MOCK_HEADERS.fail]: '500' } }
    ).then(() => null, (e: unknown) => e)
    expect(err).toBeInstanceOf(InternalServerError)
    // The next call is not affected.
    const ok = await groq.chat.completions.create({ model: CHAT_MODEL, messages: [{ role: 'user', content: 'hi' }] })
    expect(ok.choices[0]?.message.content).toBe('Mock answer: hi')
  })

  it('stall mode makes the SDK time out', async () => {
    mock.setOptions({ failMode: 'stall', failNext: 1 })
    const before = mock.stats().byOutcome.stalled
    const t0 = Date.now()
    const err = await client({ timeout: 300 }).chat.completions.create({ model: CHAT_MODEL, messages: [{ role: 'user', content: 'hi' }] })
      .then(() => null, (e: unknown) => e)
    expect(err).toBeInstanceOf(APIConnectionTimeoutError)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290)
    expect(mock.stats().byOutcome.stalled).toBe(before + 1)
    // The client gave up: the stalled request is released on the server.
    await expect.poll(() => mock.stats().stalled).toBe(0)
  })

  it('honours latency (options and per-request header), also for streams', async () => {
    mock.setOptions({ latencyMs: 300 })
    let t0 = Date.now()
    await groq.chat.completions.create({ model: CHAT_MODEL, messages: [{ role: 'user', content: 'slow' }] })
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300)

    t0 = Date.now()
    await collectStream([{ role: 'user', content: 'slow stream with a few words' }])
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300)

    mock.setOptions({ latencyMs: 0 })
    t0 = Date.now()
    await groq.models.list({ headers: { [MOCK_HEADERS.latency]: '250' } })
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250)
  })

  it('failNext fails exactly the next n requests and stats count them', async () => {
    mock.resetStats()
    mock.setOptions({ failNext: 2, failMode: '500' })
    const call = async (): Promise<string> => groq.chat.completions
      .create({ model: CHAT_MODEL, messages: [{ role: 'user', content: 'x' }] })
      .then(() => 'ok', (e: unknown) => (e instanceof InternalServerError ? '500' : String(e)))
    expect([await call(), await call(), await call(), await call()]).toEqual(['500', '500', 'ok', 'ok'])
    const s = mock.stats()
    expect(s.total).toBe(4)
    expect(s.byEndpoint['chat.completions']).toBe(4)
    expect(s.byOutcome.server_error).toBe(2)
    expect(s.byOutcome.ok).toBe(2)
    expect(s.byEndpointOutcome['chat.completions'].server_error).toBe(2)
    expect(mock.getOptions().failNext).toBe(0)
  })

  it('failRate 1 fails everything, failEndpoints restricts it', async () => {
    mock.setOptions({ failRate: 1, failMode: '429', failEndpoints: ['audio.speech'] })
    await expect(groq.models.list()).resolves.toBeDefined()
    await expect(groq.audio.speech.create({ model: 'playai-tts', voice: 'v', input: 'hi' })).rejects.toBeInstanceOf(RateLimitError)
  })

  it('requires a Bearer token (401 in Groq error envelope)', async () => {
    const r = await fetch(`${mock.url}/openai/v1/models`)
    expect(r.status).toBe(401)
    expect(await r.json()).toEqual({ error: { message: 'Invalid API Key', type: 'invalid_request_error', code: 'invalid_api_key' } })
    const empty = await fetch(`${mock.url}/openai/v1/models`, { headers: { authorization: 'Bearer ' } })
    expect(empty.status).toBe(401)
    const sdk = new Groq({ apiKey: 'k', baseURL: mock.url, maxRetries: 0, defaultHeaders: { Authorization: 'Basic abc' } })
    await expect(sdk.models.list()).rejects.toBeInstanceOf(AuthenticationError)
  })

  it('answers 404 JSON for unknown paths', async () => {
    const r = await fetch(`${mock.url}/openai/v1/nope`, { method: 'POST', headers: { authorization: 'Bearer x' } })
    expect(r.status).toBe(404)
    const body = await r.json() as { error: { message: string, type: string, code: string } }
    expect(body.error.code).toBe('unknown_url')
    expect(body.error.type).toBe('invalid_request_error')
    expect(body.error.message).toContain('/openai/v1/nope')
    expect((await fetch(`${mock.url}/v1/chat/completions`)).status).toBe(404)
  })

  it('exposes control endpoints under /__mock', async () => {
    const r = await fetch(`${mock.url}/__mock/options`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ latencyMs: 5 })
    })
    expect(r.status).toBe(200)
    expect(mock.getOptions().latencyMs).toBe(5)
    const bad = await fetch(`${mock.url}/__mock/options`, { method: 'POST', body: JSON.stringify({ failMode: 'boom' }) })
    expect(bad.status).toBe(400)
    const stats = await (await fetch(`${mock.url}/__mock/stats`)).json() as { total: number }
    expect(typeof stats.total).toBe('number')
  })
})

describe('lifecycle and concurrency', () => {
  it('close() ends stalled and keep-alive connections promptly', async () => {
    const m = await startGroqMock({ failMode: 'stall', failNext: 2 })
    const c = new Groq({ apiKey: 'k', baseURL: m.url, maxRetries: 0, timeout: 60_000 })
    const pending = [
      c.chat.completions.create({ model: CHAT_MODEL, messages: [{ role: 'user', content: 'a' }] }).then(() => 'ok', () => 'error'),
      fetch(`${m.url}/openai/v1/models`, { headers: { authorization: 'Bearer k' } }).then(() => 'ok', () => 'error')
    ]
    await expect.poll(() => m.stats().stalled).toBe(2)
    // One more request on a keep-alive connection that finishes normally.
    await c.models.list()
    const t0 = Date.now()
    await m.close()
    expect(await Promise.all(pending)).toEqual(['error', 'error'])
    expect(Date.now() - t0).toBeLessThan(1000)
    expect(m.stats().stalled).toBe(0)
    expect(m.stats().inFlight).toBe(0)
    await m.close() // idempotent
  })

  it('close() also ends requests waiting on latency and open streams', async () => {
    const m = await startGroqMock({ latencyMs: 10_000 })
    const c = new Groq({ apiKey: 'k', baseURL: m.url, maxRetries: 0 })
    const p = c.chat.completions.create({ model: CHAT_MODEL, messages: [{ role: 'user', content: 'a' }] }).then(() => 'ok', () => 'error')
    await expect.poll(() => m.stats().inFlight).toBe(1)
    const t0 = Date.now()
    await m.close()
    expect(await p).toBe('error')
    expect(Date.now() - t0).toBeLessThan(1000)
  })

  it('releases a stream the client aborts half-way', async () => {
    const m = await startGroqMock({ latencyMs: 2000 })
    try {
      const c = new Groq({ apiKey: 'k', baseURL: m.url, maxRetries: 0 })
      const s = await c.chat.completions.create({ model: CHAT_MODEL, stream: true, messages: [{ role: 'user', content: 'one two three four five six' }] })
      for await (const chunk of s) {
        if (chunk.choices[0]?.delta.content !== '') break // leaving the loop aborts the request
      }
      await expect.poll(() => m.stats().inFlight).toBe(0)
      expect(m.stats().byOutcome.aborted).toBe(1)
    } finally {
      await m.close()
    }
  })

  it('handles 200 concurrent slow requests without serialising them', async () => {
    const m = await startGroqMock({ latencyMs: 500 })
    try {
      const c = new Groq({ apiKey: 'k', baseURL: m.url, maxRetries: 0 })
      const t0 = Date.now()
      const results = await Promise.all(Array.from({ length: 200 }, async (_, i) => {
        if (i % 2 === 0) {
          const r = await c.chat.completions.create({ model: CHAT_MODEL, messages: [{ role: 'user', content: `q${i}` }] })
          return r.choices[0]?.message.content
        }
        let text = ''
        const s = await c.chat.completions.create({ model: CHAT_MODEL, stream: true, messages: [{ role: 'user', content: `q${i}` }] })
        for await (const chunk of s) text += chunk.choices[0]?.delta.content ?? ''
        return text
      }))
      const elapsed = Date.now() - t0
      expect(results.map((r, i) => r === `Mock answer: q${i}`).every(Boolean)).toBe(true)
      expect(elapsed).toBeGreaterThanOrEqual(500)
      expect(elapsed).toBeLessThan(4000)
      expect(m.stats().byOutcome.ok).toBe(200)
    } finally {
      await m.close()
    }
  })
})

describe('multipart parser', () => {
  it('parses fields and files with quoted boundaries and binary content', () => {
    const boundary = 'xYz--123'
    const bin = Buffer.from([0, 1, 2, 13, 10, 45, 45, 255])
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a \\"b\\".wav"\r\nContent-Type: audio/wav\r\n\r\n`),
      bin,
      Buffer.from(`\r\n--${boundary}--\r\n`)
    ])
    const parts = parseMultipart(body, boundary)
    expect(parts.map((p) => p.name)).toEqual(['model', 'file'])
    expect(parts[0]?.data.toString()).toBe('whisper')
    expect(parts[1]?.filename).toBe('a "b".wav')
    expect(parts[1]?.contentType).toBe('audio/wav')
    expect(Buffer.compare(parts[1]?.data ?? Buffer.alloc(0), bin)).toBe(0)
  })
})
