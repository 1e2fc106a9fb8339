import http from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { buildAnswer, estimateTokens, messageText } from './answer.js'
import type { ChatMessageLike } from './answer.js'
import { MultipartError, multipartBoundary, parseMultipart } from './multipart.js'
import type { MultipartPart } from './multipart.js'
import { FAIL_MODES, MOCK_ENDPOINTS, MOCK_HEADERS, MOCK_OUTCOMES } from './types.js'
import type {
  FailMode, GroqMock, GroqMockOptions, GroqMockStats, MockEndpoint, MockOutcome, MockRuntimeOptions
} from './types.js'
import { encodeWav, parseWav, synthesizeTone } from './wav.js'

export const API_PREFIX = '/openai/v1'

/** Transcription returned when the uploaded file has no `TRANSCRIPT:` marker. */
export const DEFAULT_TRANSCRIPT = 'What is this document about?'
export const TRANSCRIPT_MARKER = 'TRANSCRIPT:'
const MAX_MARKER_BYTES = 64 * 1024
const MAX_SPEECH_INPUT = 10_000
const SPEECH_SAMPLE_RATES = new Set([8000, 16000, 22050, 24000, 32000, 44100, 48000])

export interface MockModel {
  id: string
  object: 'model'
  created: number
  owned_by: string
  active: boolean
  context_window: number
  public_apps: null
  max_completion_tokens: number
}

const MODEL_CREATED = 1_700_000_000

export const MOCK_MODELS: readonly MockModel[] = [
  ['llama-3.1-8b-instant', 'Meta', 131072, 131072],
  ['llama-3.3-70b-versatile', 'Meta', 131072, 32768],
  ['openai/gpt-oss-20b', 'OpenAI', 131072, 65536],
  ['openai/gpt-oss-120b', 'OpenAI', 131072, 65536],
  ['whisper-large-v3', 'OpenAI', 448, 448],
  ['whisper-large-v3-turbo', 'OpenAI', 448, 448],
  ['playai-tts', 'PlayAI', 8192, 8192],
  ['playai-tts-arabic', 'PlayAI', 8192, 8192],
  ['canopylabs/orpheus-v1-english', 'Canopy Labs', 4000, 50000]
].map(([id, owner, ctx, max]) => ({
  id: id as string,
  object: 'model' as const,
  created: MODEL_CREATED,
  owned_by: owner as string,
  active: true,
  context_window: ctx as number,
  public_apps: null,
  max_completion_tokens: max as number
}))

export const DEFAULT_RUNTIME_OPTIONS: Readonly<MockRuntimeOptions> = Object.freeze({
  latencyMs: 0,
  jitterMs: 0,
  failRate: 0,
  failMode: '500' as FailMode,
  failNext: 0,
  failEndpoints: [] as MockEndpoint[],
  retryAfterSeconds: 1,
  requireAuth: true,
  seed: null,
  speechMsPerChar: 60,
  speechMaxMs: 30_000,
  speechSampleRate: 22050,
  maxBodyBytes: 100 * 1024 * 1024
})

class HttpError extends Error {
  constructor (
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string | null,
    readonly outcome: MockOutcome
  ) {
    super(message)
  }
}

function badRequest (message: string, code: string | null = null): HttpError {
  return new HttpError(400, message, 'invalid_request_error', code, 'bad_request')
}

function nonNegative (name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new TypeError(`${name} must be a finite number >= 0`)
  return v
}

/** Validates a partial runtime options object and merges it into `base`. */
export function mergeOptions (base: MockRuntimeOptions, partial: Partial<MockRuntimeOptions>): MockRuntimeOptions {
  const out: MockRuntimeOptions = { ...base, failEndpoints: [...base.failEndpoints] }
  for (const [key, value] of Object.entries(partial) as Array<[keyof MockRuntimeOptions, unknown]>) {
    if (value === undefined) continue
    switch (key) {
      case 'latencyMs':
      case 'jitterMs':
      case 'retryAfterSeconds':
      case 'speechMsPerChar':
        out[key] = nonNegative(key, value)
        break
      case 'speechMaxMs':
      case 'speechSampleRate':
      case 'maxBodyBytes':
        if (nonNegative(key, value) <= 0) throw new TypeError(`${key} must be > 0`)
        out[key] = value as number
        break
      case 'failRate':
        if (nonNegative(key, value) > 1) throw new TypeError('failRate must be within 0..1')
        out.failRate = value as number
        break
      case 'failNext':
        if (!Number.isInteger(value) || (value as number) < 0) throw new TypeError('failNext must be an integer >= 0')
        out.failNext = value as number
        break
      case 'failMode': {
        const mode = String(value) as FailMode
        if (!FAIL_MODES.includes(mode)) throw new TypeError(`failMode must be one of ${FAIL_MODES.join(', ')}`)
        out.failMode = mode
        break
      }
      case 'failEndpoints':
        if (!Array.isArray(value) || !value.every((e) => MOCK_ENDPOINTS.includes(e as MockEndpoint))) {
          throw new TypeError(`failEndpoints must be an array of ${MOCK_ENDPOINTS.join(', ')}`)
        }
        out.failEndpoints = [...value] as MockEndpoint[]
        break
      case 'requireAuth':
        if (typeof value !== 'boolean') throw new TypeError('requireAuth must be a boolean')
        out.requireAuth = value
        break
      case 'seed':
        if (value !== null && (typeof value !== 'number' || !Number.isFinite(value))) {
          throw new TypeError('seed must be a number or null')
        }
        out.seed = value as number | null
        break
      default:
        throw new TypeError(`unknown option: ${String(key)}`)
    }
  }
  return out
}

/** mulberry32 PRNG: deterministic sequence in [0, 1) for a given seed. */
function seededRandom (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function emptyCounts<K extends string> (keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>
}

function newStats (): Omit<GroqMockStats, 'inFlight' | 'stalled'> {
  return {
    total: 0,
    streamed: 0,
    byEndpoint: emptyCounts(MOCK_ENDPOINTS),
    byOutcome: emptyCounts(MOCK_OUTCOMES),
    byEndpointOutcome: Object.fromEntries(MOCK_ENDPOINTS.map((e) => [e, emptyCounts(MOCK_OUTCOMES)])) as
      Record<MockEndpoint, Record<MockOutcome, number>>
  }
}

/**
 * Resolves true once `performance.now() >= deadline` (never early, even though
 * timers may fire up to ~1 ms early), or false as soon as `signal` aborts.
 */
async function sleepUntil (deadline: number, signal: AbortSignal): Promise<boolean> {
  for (;;) {
    if (signal.aborted) return false
    const left = deadline - performance.now()
    if (left <= 0) return true
    const ok = await new Promise<boolean>((resolve) => {
      const onAbort = (): void => {
        clearTimeout(timer)
        resolve(false)
      }
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort)
        resolve(true)
      }, Math.ceil(left))
      signal.addEventListener('abort', onAbort, { once: true })
    })
    if (!ok) return false
  }
}

function route (method: string, path: string): { endpoint: MockEndpoint, modelId?: string } {
  if (!path.startsWith(`${API_PREFIX}/`)) return { endpoint: 'unknown' }
  const rest = path.slice(API_PREFIX.length)
  if (method === 'POST' && rest === '/chat/completions') return { endpoint: 'chat.completions' }
  if (method === 'POST' && rest === '/audio/transcriptions') return { endpoint: 'audio.transcriptions' }
  if (method === 'POST' && rest === '/audio/speech') return { endpoint: 'audio.speech' }
  if (method === 'GET' && rest === '/models') return { endpoint: 'models' }
  if (method === 'GET' && rest.startsWith('/models/') && rest.length > '/models/'.length) {
    return { endpoint: 'models', modelId: decodeURIComponent(rest.slice('/models/'.length)) }
  }
  return { endpoint: 'unknown' }
}

function header (req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

function numberHeader (req: IncomingMessage, name: string): number | undefined {
  const raw = header(req, name)
  if (raw === undefined || raw.trim() === '') return undefined
  const n = Number(raw)
  if (!Number.isFinite(n) || n < 0) throw badRequest(`invalid ${name} header: ${raw}`)
  return n
}

function readBody (req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let failed = false
    req.on('data', (c: Buffer) => {
      if (failed) return
      size += c.length
      if (size > limit) {
        failed = true
        chunks.length = 0
        reject(new HttpError(413, `Request body too large (limit ${limit} bytes)`, 'invalid_request_error',
          'request_too_large', 'bad_request'))
        return
      }
      chunks.push(c)
    })
    req.on('end', () => { if (!failed) resolve(Buffer.concat(chunks, size)) })
    req.on('error', (err) => { if (!failed) { failed = true; reject(err) } })
  })
}

function parseJsonBody (req: IncomingMessage, body: Buffer): Record<string, unknown> {
  const ct = (header(req, 'content-type') ?? '').toLowerCase()
  if (!ct.includes('json')) throw badRequest('Content-Type must be application/json')
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch {
    throw badRequest('request body is not valid JSON', 'json_invalid')
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw badRequest('request body must be a JSON object')
  }
  return parsed as Record<string, unknown>
}

function requireString (body: Record<string, unknown>, key: string): string {
  const v = body[key]
  if (typeof v !== 'string' || v.trim() === '') {
    throw badRequest(`'${key}' : property '${key}' is missing or not a non-empty string`)
  }
  return v
}

/** Text after a `TRANSCRIPT:` marker in the file (up to the first control byte), or null without marker. */
export function transcriptFromBytes (file: Buffer): string | null {
  const at = file.indexOf(TRANSCRIPT_MARKER, 0, 'latin1')
  if (at < 0) return null
  const start = at + TRANSCRIPT_MARKER.length
  const max = Math.min(file.length, start + MAX_MARKER_BYTES)
  let end = start
  while (end < max) {
    const b = file[end] as number
    if ((b < 0x20 && b !== 0x09) || b === 0x7f) break
    end++
  }
  return file.toString('utf8', start, end).trim()
}

/** Builds the `LIST/INFO/ICMT` chunk that embeds `TRANSCRIPT:<text>` in generated speech. */
function transcriptChunk (text: string): { id: string, data: Buffer } {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim()
  const comment = Buffer.from(`${TRANSCRIPT_MARKER}${clean}\0`, 'utf8')
  const pad = comment.length % 2
  const data = Buffer.alloc(4 + 8 + comment.length + pad)
  data.write('INFO', 0, 'ascii')
  data.write('ICMT', 4, 'ascii')
  data.writeUInt32LE(comment.length, 8)
  comment.copy(data, 12)
  return { id: 'LIST', data }
}

interface RequestCtx {
  id: string
  endpoint: MockEndpoint
  signal: AbortSignal
  recorded: boolean
  /** performance.now() when the request arrived; latency is measured from here. */
  start: number
}

type Prepared =
  | { kind: 'chat', model: string, messages: ChatMessageLike[], stream: boolean, includeUsage: boolean, maxTokens: number | null }
  | { kind: 'transcription', model: string, file: Buffer | null, language: string | null, format: 'json' | 'verbose_json' | 'text' }
  | { kind: 'speech', model: string, input: string, sampleRate: number, speed: number }
  | { kind: 'models', modelId: string | undefined }

/** Starts the mock on `options.host`:`options.port` (defaults 127.0.0.1:0). */
export async function startGroqMock (options: GroqMockOptions = {}): Promise<GroqMock> {
  const { port: wantPort = 0, host = '127.0.0.1', ...runtime } = options
  let opts = mergeOptions({ ...DEFAULT_RUNTIME_OPTIONS, failEndpoints: [] }, runtime)
  let random: () => number = opts.seed === null ? Math.random : seededRandom(opts.seed)
  let counters = newStats()
  let seq = 0
  const inFlight = new Set<AbortController>()
  const stalled = new Set<ServerResponse>()
  let closing: Promise<void> | null = null

  function setOptions (partial: Partial<MockRuntimeOptions>): void {
    opts = mergeOptions(opts, partial)
    if (partial.seed !== undefined) random = opts.seed === null ? Math.random : seededRandom(opts.seed)
  }

  function stats (): GroqMockStats {
    const copy = structuredClone(counters)
    return { ...copy, inFlight: inFlight.size, stalled: stalled.size }
  }

  function record (ctx: RequestCtx, outcome: MockOutcome): void {
    if (ctx.recorded) return
    ctx.recorded = true
    counters.byOutcome[outcome]++
    counters.byEndpointOutcome[ctx.endpoint][outcome]++
  }

  function sendJson (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.destroyed || res.headersSent) return
    const payload = Buffer.from(JSON.stringify(body))
    res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': payload.length })
    res.end(payload)
  }

  function sendError (res: ServerResponse, ctx: RequestCtx, err: HttpError, headers: Record<string, string> = {}): void {
    record(ctx, err.outcome)
    sendJson(res, err.status, { error: { message: err.message, type: err.type, code: err.code } }, headers)
  }

  async function prepare (req: IncomingMessage, endpoint: MockEndpoint, body: Buffer, modelId: string | undefined): Promise<Prepared> {
    switch (endpoint) {
      case 'chat.completions': {
        const json = parseJsonBody(req, body)
        const model = requireString(json, 'model')
        const messages = json.messages
        if (!Array.isArray(messages) || messages.length === 0) {
          throw badRequest("'messages' : property 'messages' is missing or empty")
        }
        for (const m of messages) {
          if (m === null || typeof m !== 'object' || typeof (m as { role?: unknown }).role !== 'string') {
            throw badRequest("'messages' : each message must be an object with a 'role'")
          }
        }
        const maxRaw = json.max_completion_tokens ?? json.max_tokens
        const maxTokens = typeof maxRaw === 'number' && Number.isInteger(maxRaw) && maxRaw > 0 ? maxRaw : null
        const streamOptions = json.stream_options as { include_usage?: unknown } | null | undefined
        return {
          kind: 'chat',
          model,
          messages: messages as ChatMessageLike[],
          stream: json.stream === true,
          includeUsage: streamOptions?.include_usage === true,
          maxTokens
        }
      }
      case 'audio.transcriptions': {
        const boundary = multipartBoundary(header(req, 'content-type'))
        if (boundary === null) throw badRequest('Content-Type must be multipart/form-data with a boundary')
        let parts: MultipartPart[]
        try {
          parts = parseMultipart(body, boundary)
        } catch (err) {
          if (err instanceof MultipartError) throw badRequest(`invalid multipart body: ${err.message}`)
          throw err
        }
        const field = (name: string): string | null => {
          const p = parts.find((x) => x.name === name && x.filename === undefined)
          return p === undefined ? null : p.data.toString('utf8')
        }
        const model = field('model')
        if (model === null || model.trim() === '') throw badRequest("'model' : property 'model' is missing")
        const filePart = parts.find((x) => x.name === 'file')
        const url = field('url')
        if (filePart === undefined && (url === null || url.trim() === '')) {
          throw badRequest('either file or url must be provided')
        }
        const rawFormat = field('response_format') ?? 'json'
        if (rawFormat !== 'json' && rawFormat !== 'verbose_json' && rawFormat !== 'text') {
          throw badRequest(`response_format must be one of json, verbose_json, text (got ${rawFormat})`)
        }
        const language = field('language')
        return {
          kind: 'transcription',
          model,
          file: filePart?.data ?? null,
          language: language !== null && language.trim() !== '' ? language.trim() : null,
          format: rawFormat
        }
      }
      case 'audio.speech': {
        const json = parseJsonBody(req, body)
        const model = requireString(json, 'model')
        const input = requireString(json, 'input')
        requireString(json, 'voice')
        if (input.length > MAX_SPEECH_INPUT) throw badRequest(`'input' must be at most ${MAX_SPEECH_INPUT} characters`)
        const format = json.response_format ?? 'wav'
        if (format !== 'wav') throw badRequest(`the Groq mock only produces wav audio (response_format: ${String(format)})`)
        let sampleRate = opts.speechSampleRate
        if (json.sample_rate !== undefined) {
          if (typeof json.sample_rate !== 'number' || !SPEECH_SAMPLE_RATES.has(json.sample_rate)) {
            throw badRequest(`sample_rate must be one of ${[...SPEECH_SAMPLE_RATES].join(', ')}`)
          }
          sampleRate = json.sample_rate
        }
        let speed = 1
        if (json.speed !== undefined) {
          if (typeof json.speed !== 'number' || !(json.speed >= 0.5 && json.speed <= 5)) {
            throw badRequest('speed must be a number between 0.5 and 5')
          }
          speed = json.speed
        }
        return { kind: 'speech', model, input, sampleRate, speed }
      }
      case 'models':
        return { kind: 'models', modelId }
      default:
        throw new HttpError(404, 'not found', 'invalid_request_error', 'unknown_url', 'not_found')
    }
  }

  function chooseFailure (req: IncomingMessage, endpoint: MockEndpoint): FailMode | null {
    const forced = header(req, MOCK_HEADERS.fail)?.trim().toLowerCase()
    if (forced !== undefined && forced !== '') {
      if (forced === 'none') return null
      if (FAIL_MODES.includes(forced as FailMode)) return forced as FailMode
      throw badRequest(`invalid ${MOCK_HEADERS.fail} header: ${forced} (use 429, 500, stall or none)`)
    }
    if (opts.failEndpoints.length > 0 && !opts.failEndpoints.includes(endpoint)) return null
    if (opts.failNext > 0) {
      opts.failNext--
      return opts.failMode
    }
    if (opts.failRate > 0 && random() < opts.failRate) return opts.failMode
    return null
  }

  function modelOf (p: Prepared): string {
    return p.kind === 'models' ? (p.modelId ?? 'unknown') : p.model
  }

  async function handleApi (req: IncomingMessage, res: ServerResponse, ctx: RequestCtx, modelId: string | undefined): Promise<void> {
    const body = await readBody(req, opts.maxBodyBytes)
    if (ctx.endpoint === 'unknown') {
      throw new HttpError(404, `Unknown request URL: ${req.method ?? 'GET'} ${req.url ?? '/'}. Please check the URL for typos, or see the docs at https://console.groq.com/docs/`,
        'invalid_request_error', 'unknown_url', 'not_found')
    }
    if (opts.requireAuth) {
      const auth = header(req, 'authorization') ?? ''
      if (!/^Bearer\s+\S+/i.test(auth)) {
        throw new HttpError(401, 'Invalid API Key', 'invalid_request_error', 'invalid_api_key', 'unauthorized')
      }
    }
    const prepared = await prepare(req, ctx.endpoint, body, modelId)
    const latencyBase = numberHeader(req, MOCK_HEADERS.latency) ?? opts.latencyMs
    const jitter = numberHeader(req, MOCK_HEADERS.jitter) ?? opts.jitterMs
    const retryAfter = numberHeader(req, MOCK_HEADERS.retryAfter) ?? opts.retryAfterSeconds
    const failure = chooseFailure(req, ctx.endpoint)
    const latency = latencyBase + (jitter > 0 ? random() * jitter : 0)

    if (failure === 'stall') {
      record(ctx, 'stalled')
      stalled.add(res)
      return // never answered; close() or the client ends the socket
    }
    if (failure !== null) {
      if (!await sleepUntil(ctx.start + latency, ctx.signal)) return
      if (failure === '429') {
        const model = modelOf(prepared)
        sendError(res, ctx, new HttpError(429,
          `Rate limit reached for model \`${model}\` in organization \`org_mock\` service tier \`on_demand\` on requests per minute (RPM): Limit 30, Used 30, Requested 1. Please try again in ${retryAfter}s. (injected by groq-mock)`,
          'requests', 'rate_limit_exceeded', 'rate_limited'), {
          'retry-after': String(retryAfter),
          'x-ratelimit-limit-requests': '30',
          'x-ratelimit-remaining-requests': '0',
          'x-ratelimit-reset-requests': `${retryAfter}s`
        })
      } else {
        sendError(res, ctx, new HttpError(500, 'Internal Server Error (injected by groq-mock)', 'internal_server_error',
          'internal_server_error', 'server_error'))
      }
      return
    }

    switch (prepared.kind) {
      case 'chat':
        await handleChat(res, ctx, prepared, latency)
        return
      case 'transcription': {
        if (!await sleepUntil(ctx.start + latency, ctx.signal)) return
        const marked = prepared.file === null ? null : transcriptFromBytes(prepared.file)
        const text = marked ?? DEFAULT_TRANSCRIPT
        record(ctx, 'ok')
        if (prepared.format === 'text') {
          if (res.destroyed) return
          const payload = Buffer.from(text, 'utf8')
          res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': payload.length })
          res.end(payload)
          return
        }
        if (prepared.format === 'json') {
          sendJson(res, 200, { text, x_groq: { id: ctx.id } })
          return
        }
        const wav = prepared.file === null ? null : parseWav(prepared.file)
        const duration = Math.round((wav?.duration ?? Math.max(0.5, text.length * 0.06)) * 1000) / 1000
        sendJson(res, 200, {
          task: 'transcribe',
          language: prepared.language ?? 'en',
          duration,
          text,
          segments: [{
            id: 0,
            seek: 0,
            start: 0,
            end: duration,
            text: ` ${text}`,
            tokens: [],
            temperature: 0,
            avg_logprob: -0.1,
            compression_ratio: 1,
            no_speech_prob: 0.01
          }],
          x_groq: { id: ctx.id }
        })
        return
      }
      case 'speech': {
        if (!await sleepUntil(ctx.start + latency, ctx.signal)) return
        const samples = synthesizeTone(prepared.input, {
          sampleRate: prepared.sampleRate,
          msPerChar: opts.speechMsPerChar,
          maxMs: opts.speechMaxMs,
          minMs: Math.min(200, opts.speechMaxMs),
          speed: prepared.speed
        })
        const wav = encodeWav(samples, { sampleRate: prepared.sampleRate, trailingChunks: [transcriptChunk(prepared.input)] })
        record(ctx, 'ok')
        if (res.destroyed) return
        res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': wav.length })
        res.end(wav)
        return
      }
      case 'models': {
        if (!await sleepUntil(ctx.start + latency, ctx.signal)) return
        if (prepared.modelId !== undefined) {
          const m = MOCK_MODELS.find((x) => x.id === prepared.modelId)
          if (m === undefined) {
            throw new HttpError(404, `The model \`${prepared.modelId}\` does not exist or you do not have access to it.`,
              'invalid_request_error', 'model_not_found', 'not_found')
          }
          record(ctx, 'ok')
          sendJson(res, 200, m)
          return
        }
        record(ctx, 'ok')
        sendJson(res, 200, { object: 'list', data: MOCK_MODELS })
      }
    }
  }

  async function handleChat (res: ServerResponse, ctx: RequestCtx,
    p: Extract<Prepared, { kind: 'chat' }>, latency: number): Promise<void> {
    const answer = buildAnswer(p.messages)
    let content = answer.content
    let finishReason: 'stop' | 'length' = 'stop'
    if (p.maxTokens !== null && estimateTokens(content) > p.maxTokens) {
      content = content.slice(0, p.maxTokens * 4)
      finishReason = 'length'
    }
    const promptText = p.messages.map((m) => messageText(m.content)).join('\n')
    const promptTokens = estimateTokens(promptText) + 4 * p.messages.length
    const completionTokens = estimateTokens(content)
    const usage = {
      queue_time: 0.001,
      prompt_tokens: promptTokens,
      prompt_time: 0.002,
      completion_tokens: completionTokens,
      completion_time: Math.round(latency) / 1000,
      total_tokens: promptTokens + completionTokens,
      total_time: Math.round(latency + 3) / 1000
    }
    const id = `chatcmpl-mock-${ctx.id.slice(4)}`
    const created = Math.floor(Date.now() / 1000)

    if (!p.stream) {
      if (!await sleepUntil(ctx.start + latency, ctx.signal)) return
      record(ctx, 'ok')
      sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model: p.model,
        choices: [{ index: 0, message: { role: 'assistant', content }, logprobs: null, finish_reason: finishReason }],
        usage,
        system_fingerprint: 'fp_groq_mock',
        x_groq: { id: ctx.id }
      })
      return
    }

    counters.streamed++
    const pieces = splitForStream(content)
    const base = { id, object: 'chat.completion.chunk', created, model: p.model, system_fingerprint: 'fp_groq_mock' }
    const event = (choices: unknown[], extra: Record<string, unknown> = {}): string =>
      `data: ${JSON.stringify({ ...base, choices, ...extra })}\n\n`
    const firstDelay = latency / 2
    const perPiece = pieces.length > 0 ? (latency - firstDelay) / pieces.length : 0

    if (!await sleepUntil(ctx.start + firstDelay, ctx.signal) || res.destroyed) return
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no'
    })
    res.write(event([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
      { x_groq: { id: ctx.id } }))
    for (const [i, piece] of pieces.entries()) {
      if (!await sleepUntil(ctx.start + firstDelay + (i + 1) * perPiece, ctx.signal) || res.destroyed) return
      res.write(event([{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }]))
    }
    res.write(event([{ index: 0, delta: {}, logprobs: null, finish_reason: finishReason }],
      { x_groq: { id: ctx.id, usage } }))
    if (p.includeUsage) res.write(event([], { usage }))
    res.write('data: [DONE]\n\n')
    record(ctx, 'ok')
    res.end()
  }

  function handleControl (req: IncomingMessage, res: ServerResponse, path: string): void {
    const reply = (status: number, body: unknown): void => {
      const payload = Buffer.from(JSON.stringify(body))
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': payload.length })
      res.end(payload)
    }
    const err = (status: number, message: string): void =>
      reply(status, { error: { message, type: 'invalid_request_error', code: null } })
    if (req.method === 'GET' && path === '/__mock/stats') return reply(200, stats())
    if (req.method === 'GET' && path === '/__mock/options') return reply(200, opts)
    if (req.method === 'GET' && path === '/__mock/health') return reply(200, { ok: true })
    if (req.method === 'POST' && path === '/__mock/reset-stats') {
      counters = newStats()
      return reply(200, stats())
    }
    if (req.method === 'POST' && path === '/__mock/options') {
      readBody(req, 1024 * 1024).then((buf) => {
        let partial: unknown
        try {
          partial = JSON.parse(buf.toString('utf8'))
        } catch {
          return err(400, 'body must be JSON')
        }
        if (partial === null || typeof partial !== 'object' || Array.isArray(partial)) return err(400, 'body must be a JSON object')
        try {
          setOptions(partial as Partial<MockRuntimeOptions>)
        } catch (e) {
          return err(400, (e as Error).message)
        }
        reply(200, opts)
      }, () => err(400, 'could not read body'))
      return
    }
    err(404, `Unknown mock control URL: ${req.method ?? 'GET'} ${path}`)
  }

  const server = http.createServer({ noDelay: true, keepAlive: true }, (req, res) => {
    const path = new URL(req.url ?? '/', 'http://mock').pathname
    if (path.startsWith('/__mock/')) {
      handleControl(req, res, path)
      return
    }
    const { endpoint, modelId } = route(req.method ?? 'GET', path)
    const ac = new AbortController()
    seq++
    const ctx: RequestCtx = { id: `req_${String(seq).padStart(8, '0')}`, endpoint, signal: ac.signal, recorded: false, start: performance.now() }
    counters.total++
    counters.byEndpoint[endpoint]++
    inFlight.add(ac)
    res.setHeader('x-request-id', ctx.id)
    res.on('close', () => {
      inFlight.delete(ac)
      stalled.delete(res)
      if (!res.writableFinished) {
        ac.abort()
        record(ctx, 'aborted')
      }
    })
    handleApi(req, res, ctx, modelId).catch((err: unknown) => {
      if (res.headersSent) {
        // Failure in the middle of a stream: nothing sensible can be sent any more.
        record(ctx, 'server_error')
        res.destroy()
        return
      }
      if (err instanceof HttpError) {
        sendError(res, ctx, err)
        return
      }
      record(ctx, 'server_error')
      sendError(res, ctx, new HttpError(500, `groq-mock internal error: ${(err as Error).message}`,
        'internal_server_error', 'internal_server_error', 'server_error'))
    })
  })
  server.keepAliveTimeout = 30_000
  server.headersTimeout = 35_000
  server.requestTimeout = 0

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(wantPort, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const addr = server.address() as AddressInfo
  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host

  return {
    url: `http://${urlHost}:${addr.port}`,
    port: addr.port,
    host,
    setOptions,
    getOptions: () => structuredClone(opts),
    stats,
    resetStats: () => { counters = newStats() },
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const ac of inFlight) ac.abort()
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closing
    }
  }
}

/** Splits an answer into word-sized stream deltas (at most 64) whose concatenation is the answer. */
export function splitForStream (content: string): string[] {
  const words = content.match(/\s*\S+\s*$|\s*\S+/g) ?? []
  const joined = words.join('')
  const pieces = joined === content ? words : [content]
  if (pieces.length <= 64) return pieces.filter((p) => p.length > 0)
  const per = Math.ceil(pieces.length / 64)
  const out: string[] = []
  for (let i = 0; i < pieces.length; i += per) out.push(pieces.slice(i, i + per).join(''))
  return out
}
