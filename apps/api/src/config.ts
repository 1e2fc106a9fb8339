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
  CORS_ORIGINS: Type.String({ default: 'http://localhost:5173,http://localhost:3000' }),
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
  CLOSE_GRACE_MS: Type.Integer({ default: 10_000, minimum: 0 }),
  WEB_CONCURRENCY: Type.Integer({ default: 0, minimum: 0 })
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
  corsOrigins: string[]
  /** Addresses or CIDRs of proxies whose X-Forwarded-For is believed; empty trusts nobody. */
  trustProxy: string[]
  rateLimits: RateLimitConfig
  frontendUrl: string
  smtpUrl: string | undefined
  mailFrom: string
  groq: { apiKey: string | undefined, baseUrl: string | undefined, model: string, timeoutMs: number, maxRetries: number }
  closeGraceMs: number
  /** PM2 worker count; 0 means one per CPU. */
  workers: number
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
  const raw = envSchema<Env>({ schema: EnvSchema, data: env, env: false, dotenv: false })
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
    corsOrigins: splitList(raw.CORS_ORIGINS),
    trustProxy: parseTrustProxy(raw.TRUST_PROXY),
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
    closeGraceMs: raw.CLOSE_GRACE_MS,
    workers: raw.WEB_CONCURRENCY === 0 ? cpus().length : raw.WEB_CONCURRENCY
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
