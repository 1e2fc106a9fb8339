import { isIP } from 'node:net'
import { cpus } from 'node:os'
import { resolve } from 'node:path'
import envSchema from 'env-schema'
import { Type, type Static } from 'typebox'
import { parseRateLimit, parseRateLimits, type RateLimitSpec } from './lib/rate-limit-spec.js'

// Every variable the service reads, with its default. `.env.example` documents the same list.
const EnvSchema = Type.Object({
  PORT: Type.Integer({ default: 8080, minimum: 0, maximum: 65535 }),
  HOST: Type.String({ default: '127.0.0.1' }),
  LOG_LEVEL: Type.Union([
    Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'),
    Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')
  ], { default: 'info' }),
  DATA_DIR: Type.String({ default: '.data' }),
  DATABASE_URL: Type.Optional(Type.String({ minLength: 1 })),
  DB_POOL_MAX: Type.Integer({ default: 10, minimum: 1 }),
  DB_MIGRATE_ON_BOOT: Type.Boolean({ default: true }),
  REDIS_URL: Type.Optional(Type.String({ minLength: 1 })),
  REDIS_KEY_PREFIX: Type.String({ default: 'documind:' }),
  SUPABASE_JWT_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  JWT_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  BCRYPT_COST: Type.Integer({ default: 12, minimum: 4, maximum: 31 }),
  BCRYPT_CONCURRENCY: Type.Integer({ default: 0, minimum: 0 }),
  CORS_ORIGINS: Type.String({ default: 'http://localhost:5173,http://localhost:3000' }),
  API_DOCS: Type.Union([Type.Literal('on'), Type.Literal('off')], { default: 'on' }),
  TRUST_PROXY: Type.String({ default: '' }),
  RATE_LIMIT_DEFAULT: Type.String({ default: '200 per day; 50 per hour' }),
  RATE_LIMIT_SIGNUP: Type.String({ default: '3 per hour' }),
  RATE_LIMIT_LOGIN: Type.String({ default: '5 per minute' }),
  RATE_LIMIT_FORGOT_PASSWORD: Type.String({ default: '3 per hour' }),
  RATE_LIMIT_FORGOT_PASSWORD_PER_EMAIL: Type.String({ default: '3 per hour' }),
  RATE_LIMIT_RESET_PASSWORD: Type.String({ default: '5 per hour' }),
  RATE_LIMIT_CHANGE_PASSWORD: Type.String({ default: '10 per hour' }),
  RATE_LIMIT_CHANGE_EMAIL: Type.String({ default: '5 per hour' }),
  FRONTEND_URL: Type.String({ default: 'http://localhost:5173' }),
  SMTP_URL: Type.Optional(Type.String({ minLength: 1 })),
  MAIL_FROM: Type.String({ default: 'DocuMind Voice <no-reply@localhost>' }),
  GROQ_API_KEY: Type.Optional(Type.String({ minLength: 1 })),
  GROQ_BASE_URL: Type.Optional(Type.String({ minLength: 1 })),
  GROQ_MODEL: Type.String({ default: 'llama-3.1-8b-instant' }),
  GROQ_TIMEOUT_MS: Type.Integer({ default: 30_000, minimum: 100 }),
  GROQ_MAX_RETRIES: Type.Integer({ default: 2, minimum: 0 }),
  MAX_DOCUMENTS_PER_USER: Type.Integer({ default: 5, minimum: 1 }),
  MAX_UPLOAD_BYTES: Type.Integer({ default: 10 * 1024 * 1024, minimum: 1, maximum: 50 * 1024 * 1024 }),
  CHUNK_SIZE_WORDS: Type.Integer({ default: 1000, minimum: 1 }),
  CHUNK_OVERLAP_WORDS: Type.Integer({ default: 200, minimum: 0 }),
  PDF_EXTRACT_THREADS: Type.Integer({ default: 0, minimum: 0 }),
  PDF_EXTRACT_TIMEOUT_MS: Type.Integer({ default: 120_000, minimum: 1000 }),
  PDF_MAX_DECODED_MB: Type.Integer({ default: 128, minimum: 1 }),
  PDF_EXTRACT_HEAP_MB: Type.Integer({ default: 128, minimum: 64 }),
  PDF_MAX_PAGES: Type.Integer({ default: 10_000, minimum: 1 }),
  QUERY_LIMIT_PER_DAY: Type.Integer({ default: 50, minimum: 0 }),
  QUERY_CACHE_TTL: Type.Integer({ default: 3600, minimum: 0 }),
  ASK_TOP_K: Type.Integer({ default: 5, minimum: 1, maximum: 50 }),
  ASK_CONTEXT_CHARS: Type.Integer({ default: 12_000, minimum: 500 }),
  ASK_MAX_QUESTION_CHARS: Type.Integer({ default: 2000, minimum: 1 }),
  GROQ_STT_MODEL: Type.String({ default: 'whisper-large-v3-turbo' }),
  GROQ_TTS_MODEL: Type.String({ default: 'canopylabs/orpheus-v1-english' }),
  GROQ_TTS_VOICE: Type.String({ default: 'troy' }),
  GROQ_TTS_MAX_INPUT_CHARS: Type.Integer({ default: 200, minimum: 20 }),
  ESPEAK_NG_PATH: Type.String({ default: 'espeak-ng' }),
  TTS_MAX_CHARS: Type.Integer({ default: 2000, minimum: 50 }),
  TTS_CONCURRENCY: Type.Integer({ default: 2, minimum: 1 }),
  TTS_QUEUE_MAX: Type.Integer({ default: 50, minimum: 0 }),
  AUDIO_TTL_HOURS: Type.Number({ default: 24, exclusiveMinimum: 0 }),
  REQUEST_TIMEOUT_MS: Type.Integer({ default: 300_000, minimum: 100 }),
  HEADERS_TIMEOUT_MS: Type.Integer({ default: 30_000, minimum: 100 }),
  BODY_PROGRESS_WINDOW_MS: Type.Integer({ default: 10_000, minimum: 100 }),
  BODY_PROGRESS_MIN_BYTES: Type.Integer({ default: 4096, minimum: 1 }),
  MAX_PENDING_BODIES_PER_ADDRESS: Type.Integer({ default: 10, minimum: 1 }),
  CLOSE_GRACE_MS: Type.Integer({ default: 10_000, minimum: 0 }),
  SHUTDOWN_DRAIN_MS: Type.Integer({ default: 1000, minimum: 0 }),
  WEB_CONCURRENCY: Type.Integer({ default: 0, minimum: 0 }),
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  METRICS_PORT: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  METRICS_HOST: Type.String({ default: '127.0.0.1' })
})

type Env = Static<typeof EnvSchema>

export interface RateLimitConfig {
  /** Applied to every route without its own limit, counted per route and client address. */
  default: RateLimitSpec[]
  signup: RateLimitSpec
  login: RateLimitSpec
  forgotPassword: RateLimitSpec
  forgotPasswordPerEmail: RateLimitSpec
  resetPassword: RateLimitSpec
  changePassword: RateLimitSpec
  changeEmail: RateLimitSpec
}

export interface SpeechConfig {
  /** Groq Whisper model for /transcribe and /voice-query. */
  sttModel: string
  ttsModel: string
  ttsVoice: string
  /** Longest input one Groq speech call accepts; longer text is synthesized in pieces and joined. */
  groqTtsMaxInputChars: number
  /** espeak-ng binary, the local engine used without GROQ_API_KEY; '' (ESPEAK_NG_PATH=off) disables it. */
  espeakPath: string
  /** Longer text is cut at a word boundary before synthesis. */
  maxChars: number
  /** Background answer-audio jobs running at once per worker, and how many may wait. */
  concurrency: number
  queueMax: number
  /** Generated audio is deleted after this many hours. */
  audioTtlHours: number
}

export interface DocumentsConfig {
  maxPerUser: number
  /** Largest accepted PDF (10 MiB by default, as clients expect); must stay under the 50 MiB request cap. */
  maxUploadBytes: number
  chunkSizeWords: number
  chunkOverlapWords: number
  /** PDF extraction threads per worker process; 0 means half the CPUs, at least 2. */
  extractThreads: number
  extractTimeoutMs: number
  /** What one document's streams may decode to, all together: the decompression-bomb bound. */
  maxDecodedBytes: number
  /** V8 heap of each extraction thread, in MB (exceeding it ends the extraction, not the process). */
  extractHeapMb: number
  /** Longer documents are refused before their pages are read. */
  maxPages: number
}

export interface AskConfig {
  /** Questions per user per 24 h window (the window starts at the first question). */
  queryLimitPerDay: number
  /** Answer cache lifetime in seconds; 0 disables the cache. */
  cacheTtlSeconds: number
  /** Chunks handed to the answerer at most, and the characters of context they may take. */
  topK: number
  contextChars: number
  /**
   * Longest question (/ask, or /voice-query's transcript) in characters; longer ones are refused
   * before the quota counts them. The question goes into the prompt four times (it and the three
   * earlier ones of the history), so it is kept small beside the document context.
   */
  maxQuestionChars: number
}

/** How long a client may take to send its request, and how many bodies one address may be sending. */
export interface RequestIntakeConfig {
  /** The whole request (line, headers and body) must have arrived within this. */
  timeoutMs: number
  headersTimeoutMs: number
  /** A body still arriving must bring at least bodyMinBytes in every window of bodyWindowMs. */
  bodyWindowMs: number
  bodyMinBytes: number
  /** Per worker process: PM2 spreads one address's connections over all workers. */
  maxPendingBodiesPerAddress: number
}

export interface AppConfig {
  port: number
  host: string
  logLevel: Env['LOG_LEVEL']
  dataDir: string
  databaseUrl: string | undefined
  dbPoolMax: number
  migrateOnBoot: boolean
  redisUrl: string | undefined
  redisKeyPrefix: string
  jwtSecret: string | undefined
  bcryptCost: number
  /** bcrypt hashes at once per worker; 0 means the worker's share of the CPUs (at least 1). */
  bcryptConcurrency: number
  corsOrigins: string[]
  /** Addresses or CIDRs of proxies whose X-Forwarded-For is believed; empty trusts nobody. */
  trustProxy: string[]
  /** The OpenAPI document at /docs/json and Swagger UI at /docs (API_DOCS=on); off, both are 404. */
  apiDocs: boolean
  rateLimits: RateLimitConfig
  frontendUrl: string
  smtpUrl: string | undefined
  mailFrom: string
  groq: { apiKey: string | undefined, baseUrl: string | undefined, model: string, timeoutMs: number, maxRetries: number }
  documents: DocumentsConfig
  ask: AskConfig
  speech: SpeechConfig
  requests: RequestIntakeConfig
  closeGraceMs: number
  /** Part of the grace period spent serving with `Connection: close` before the server closes. */
  shutdownDrainMs: number
  /** PM2 worker count; 0 means one per CPU. */
  workers: number
  metrics: MetricsConfig
}

/** GET /metrics: neither set means off (404). */
export interface MetricsConfig {
  /** Bearer token GET /metrics on the API port requires; unset, it answers 404 there. */
  token: string | undefined
  /** A listener of its own that serves only /metrics, without a token; unset, there is none. */
  port: number | undefined
  host: string
}

function splitList (value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter((item) => item !== '')
}

function parseTrustProxy (value: string): string[] {
  const entries = splitList(value)
  for (const entry of entries) {
    const [address, bits, extra] = entry.split('/')
    const family = isIP(address ?? '')
    const bitsOk = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32))
    if (family === 0 || !bitsOk || extra !== undefined) {
      // A blanket "true" would let any client pick its own rate-limit bucket, so only addresses are accepted.
      throw new Error(`TRUST_PROXY: "${entry}" is not an IP address or CIDR`)
    }
  }
  return entries
}

/** Reads and validates the environment once; throws with every problem listed. */
export function loadConfig (env: NodeJS.ProcessEnv = process.env): AppConfig {
  // An empty variable (`SMTP_URL=` in an env file, `${GROQ_API_KEY:-}` in compose) means unset.
  const data = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''))
  const raw = envSchema<Env>({ schema: EnvSchema, data, env: false, dotenv: false })
  const workers = raw.WEB_CONCURRENCY === 0 ? cpus().length : raw.WEB_CONCURRENCY
  if (raw.CHUNK_OVERLAP_WORDS >= raw.CHUNK_SIZE_WORDS) {
    throw new Error(`CHUNK_OVERLAP_WORDS (${raw.CHUNK_OVERLAP_WORDS}) must be smaller than CHUNK_SIZE_WORDS (${raw.CHUNK_SIZE_WORDS})`)
  }
  if (raw.HEADERS_TIMEOUT_MS > raw.REQUEST_TIMEOUT_MS) {
    // Node's HTTP server refuses this combination.
    throw new Error(`HEADERS_TIMEOUT_MS (${raw.HEADERS_TIMEOUT_MS}) must not exceed REQUEST_TIMEOUT_MS (${raw.REQUEST_TIMEOUT_MS})`)
  }
  return {
    port: raw.PORT,
    host: raw.HOST,
    logLevel: raw.LOG_LEVEL,
    dataDir: resolve(raw.DATA_DIR),
    databaseUrl: raw.DATABASE_URL,
    dbPoolMax: raw.DB_POOL_MAX,
    migrateOnBoot: raw.DB_MIGRATE_ON_BOOT,
    redisUrl: raw.REDIS_URL,
    redisKeyPrefix: raw.REDIS_KEY_PREFIX,
    jwtSecret: raw.SUPABASE_JWT_SECRET ?? raw.JWT_SECRET,
    bcryptCost: raw.BCRYPT_COST,
    bcryptConcurrency: raw.BCRYPT_CONCURRENCY > 0 ? raw.BCRYPT_CONCURRENCY : Math.max(1, Math.round(cpus().length / workers)),
    corsOrigins: splitList(raw.CORS_ORIGINS),
    trustProxy: parseTrustProxy(raw.TRUST_PROXY),
    apiDocs: raw.API_DOCS === 'on',
    rateLimits: {
      default: parseRateLimits(raw.RATE_LIMIT_DEFAULT),
      signup: parseRateLimit(raw.RATE_LIMIT_SIGNUP),
      login: parseRateLimit(raw.RATE_LIMIT_LOGIN),
      forgotPassword: parseRateLimit(raw.RATE_LIMIT_FORGOT_PASSWORD),
      forgotPasswordPerEmail: parseRateLimit(raw.RATE_LIMIT_FORGOT_PASSWORD_PER_EMAIL),
      resetPassword: parseRateLimit(raw.RATE_LIMIT_RESET_PASSWORD),
      changePassword: parseRateLimit(raw.RATE_LIMIT_CHANGE_PASSWORD),
      changeEmail: parseRateLimit(raw.RATE_LIMIT_CHANGE_EMAIL)
    },
    frontendUrl: raw.FRONTEND_URL,
    smtpUrl: raw.SMTP_URL,
    mailFrom: raw.MAIL_FROM,
    groq: {
      apiKey: raw.GROQ_API_KEY,
      baseUrl: raw.GROQ_BASE_URL,
      model: raw.GROQ_MODEL,
      timeoutMs: raw.GROQ_TIMEOUT_MS,
      maxRetries: raw.GROQ_MAX_RETRIES
    },
    documents: {
      maxPerUser: raw.MAX_DOCUMENTS_PER_USER,
      maxUploadBytes: raw.MAX_UPLOAD_BYTES,
      chunkSizeWords: raw.CHUNK_SIZE_WORDS,
      chunkOverlapWords: raw.CHUNK_OVERLAP_WORDS,
      extractThreads: raw.PDF_EXTRACT_THREADS,
      extractTimeoutMs: raw.PDF_EXTRACT_TIMEOUT_MS,
      maxDecodedBytes: raw.PDF_MAX_DECODED_MB * 1024 * 1024,
      extractHeapMb: raw.PDF_EXTRACT_HEAP_MB,
      maxPages: raw.PDF_MAX_PAGES
    },
    ask: {
      queryLimitPerDay: raw.QUERY_LIMIT_PER_DAY,
      cacheTtlSeconds: raw.QUERY_CACHE_TTL,
      topK: raw.ASK_TOP_K,
      contextChars: raw.ASK_CONTEXT_CHARS,
      maxQuestionChars: raw.ASK_MAX_QUESTION_CHARS
    },
    speech: {
      sttModel: raw.GROQ_STT_MODEL,
      ttsModel: raw.GROQ_TTS_MODEL,
      ttsVoice: raw.GROQ_TTS_VOICE,
      groqTtsMaxInputChars: raw.GROQ_TTS_MAX_INPUT_CHARS,
      // 'off' disables it (an empty variable means the default, like every other variable).
      espeakPath: raw.ESPEAK_NG_PATH.trim().toLowerCase() === 'off' ? '' : raw.ESPEAK_NG_PATH.trim(),
      maxChars: raw.TTS_MAX_CHARS,
      concurrency: raw.TTS_CONCURRENCY,
      queueMax: raw.TTS_QUEUE_MAX,
      audioTtlHours: raw.AUDIO_TTL_HOURS
    },
    requests: {
      timeoutMs: raw.REQUEST_TIMEOUT_MS,
      headersTimeoutMs: raw.HEADERS_TIMEOUT_MS,
      bodyWindowMs: raw.BODY_PROGRESS_WINDOW_MS,
      bodyMinBytes: raw.BODY_PROGRESS_MIN_BYTES,
      maxPendingBodiesPerAddress: raw.MAX_PENDING_BODIES_PER_ADDRESS
    },
    closeGraceMs: raw.CLOSE_GRACE_MS,
    shutdownDrainMs: Math.min(raw.SHUTDOWN_DRAIN_MS, raw.CLOSE_GRACE_MS),
    workers,
    metrics: { token: raw.METRICS_TOKEN, port: raw.METRICS_PORT, host: raw.METRICS_HOST }
  }
}

/** The service itself cannot run without these; the zero-config launcher provides both. */
export function assertRunnable (config: AppConfig): asserts config is AppConfig & { databaseUrl: string, jwtSecret: string } {
  const missing = []
  if (config.databaseUrl === undefined) missing.push('DATABASE_URL')
  if (config.jwtSecret === undefined) missing.push('SUPABASE_JWT_SECRET (or JWT_SECRET)')
  if (missing.length > 0) {
    throw new Error(`Missing configuration: ${missing.join(', ')}. Use "npm start" for the zero-config setup, or set them (see .env.example).`)
  }
}
