import type { Server } from 'node:http'
import { join } from 'node:path'
import { AjvCompiler, type ValidatorFactory } from '@fastify/ajv-compiler'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { LogController, type FastifyError, type FastifyHttpOptions, type FastifyInstance, type FastifyReply } from 'fastify'
import fp from 'fastify-plugin'
import type { AppConfig } from './config.js'
import { clientErrorHandler } from './lib/client-errors.js'
import { requestLoggerFactory } from './lib/request-logger.js'
import answerCache from './plugins/app/answering/answer-cache.js'
import answering from './plugins/app/answering/answering.js'
import audioStore from './plugins/app/speech/audio-store.js'
import accessTokens from './plugins/app/users/access-tokens.js'
import authenticate from './plugins/app/users/authenticate.js'
import chatHistory from './plugins/app/answering/chat-history.js'
import documentsRepository from './plugins/app/documents/documents-repository.js'
import gracefulShutdown from './plugins/app/graceful-shutdown.js'
import ingestion from './plugins/app/documents/ingestion.js'
import kvStore from './plugins/app/kv-store.js'
import feedback from './plugins/app/answering/feedback.js'
import mailer from './plugins/app/users/mailer.js'
import passwordHasher from './plugins/app/users/password-hasher.js'
import passwordResets from './plugins/app/users/password-resets.js'
import queryQuota from './plugins/app/limits/query-quota.js'
import rateLimitPolicy, { STORE_UNAVAILABLE_MESSAGE } from './plugins/app/limits/rate-limit-policy.js'
import requestIntake from './plugins/app/limits/request-intake.js'
import speech from './plugins/app/speech/speech.js'
import usageStats from './plugins/app/users/usage-stats.js'
import usersRepository from './plugins/app/users/users-repository.js'
import voicePreferences from './plugins/app/speech/voice-preferences.js'
import cors from './plugins/external/cors.js'
import groq from './plugins/external/groq.js'
import metrics from './plugins/external/metrics.js'
import securityHeaders from './plugins/external/security-headers.js'
import swagger from './plugins/external/swagger.js'
import postgres, { isInvalidInputError, isMissingUserError } from './plugins/external/pg.js'
import rateLimit from './plugins/external/rate-limit.js'
import redis from './plugins/external/redis.js'
import askRoutes from './routes/ask/index.js'
import audioRoutes from './routes/audio/index.js'
import authRoutes from './routes/auth/index.js'
import cacheRoutes from './routes/cache/index.js'
import clearRoutes from './routes/clear/index.js'
import documentsRoutes from './routes/documents/index.js'
import feedbackRoutes from './routes/feedback/index.js'
import healthRoutes from './routes/health/index.js'
import limitsRoutes from './routes/limits/index.js'
import metricsRoutes from './routes/metrics/index.js'
import speakRoutes from './routes/speak/index.js'
import statsRoutes from './routes/stats/index.js'
import transcribeRoutes from './routes/transcribe/index.js'
import ttsRoutes from './routes/tts/index.js'
import uploadRoutes from './routes/upload/index.js'
import userRoutes from './routes/user/index.js'
import voiceRoutes from './routes/voice/index.js'
import voiceQueryRoutes from './routes/voice-query/index.js'

export type RunnableConfig = AppConfig & { databaseUrl: string, jwtSecret: string }

declare module 'fastify' {
  interface FastifyInstance {
    config: RunnableConfig
  }
}

/** JSON bodies are small; uploads get their own limit from multipart. */
const JSON_BODY_LIMIT = 1024 * 1024

// PostgreSQL or Redis unreachable (down, restarting, hung): socket errors, Postgres shutdown/connection
// SQLSTATEs (57P0x, 08xxx, 53300), and the pg/ioredis client messages for lost or refused connections.
const STORE_DOWN_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', '57P01', '57P02', '57P03', '53300'])
/** busboy's errors for a multipart body it cannot parse (no boundary, cut short, broken part headers). */
const MALFORMED_MULTIPART_MESSAGE = /^(Multipart: Boundary not found|Unexpected end of (form|multipart data)|Malformed part header|Malformed urlencoded form)/
const STORE_DOWN_MESSAGE = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout|Command timed out|Connection is closed|Stream isn't writeable|Reached the max retries per request)/

/** An outage of a store the request needed: the answer is a 503 to retry, not a 500 bug. */
export function isStoreUnavailable (err: unknown): boolean {
  if (!(err instanceof Error)) return false
  if (err instanceof AggregateError) return err.errors.some(isStoreUnavailable)
  const code = (err as { code?: unknown }).code
  return (typeof code === 'string' && (STORE_DOWN_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) || STORE_DOWN_MESSAGE.test(err.message)
}

const ajvCompilers = AjvCompiler()

/**
 * Query strings and path parameters arrive as text and are coerced to their schema's types. JSON
 * bodies carry their own types: a number, boolean or object where a string is expected is a 400,
 * never turned into a string (a numeric email would otherwise become the account "12345").
 */
const buildValidator: ValidatorFactory = (externalSchemas, options) => {
  const coercing = ajvCompilers(externalSchemas, options)
  if (options?.mode === 'JTD') return coercing // not used here, and without type coercion anyway
  const exact = ajvCompilers(externalSchemas, { ...options, customOptions: { ...options?.customOptions, coerceTypes: false } })
  return (route) => route.httpPart === 'body' ? exact(route) : coercing(route)
}

export function serverOptions (config: RunnableConfig): FastifyHttpOptions<Server> {
  const { timeoutMs, headersTimeoutMs } = config.requests
  return {
    logger: {
      level: config.logLevel,
      redact: ['req.headers.authorization', 'req.headers.cookie', 'mail.text']
    },
    // Only the listed proxies may set the client address; never a blanket `true`.
    trustProxy: config.trustProxy.length > 0 ? config.trustProxy : false,
    bodyLimit: JSON_BODY_LIMIT,
    // Fastify turns Node's request timeout off; a request (headers and body) that has not arrived in
    // time gets a 408 from clientErrorHandler. Node checks both deadlines every
    // connectionsCheckingInterval, so a quarter of the shorter one keeps the answer near its deadline.
    // Nothing bounds the time a handler takes: extraction and LLM calls have their own timeouts.
    requestTimeout: timeoutMs,
    http: {
      headersTimeout: headersTimeoutMs,
      requestTimeout: timeoutMs,
      connectionsCheckingInterval: Math.max(25, Math.min(5000, Math.floor(headersTimeoutMs / 4))),
      // Checked by plugins/app/limits/request-intake.ts, which answers in the JSON envelope.
      requireHostHeader: false
    },
    // Parser errors (400, 413, 431) and request timeouts (408): the same JSON envelope as every other error.
    clientErrorHandler: clientErrorHandler({ requestMs: timeoutMs, headersMs: headersTimeoutMs }),
    // Per-request access logs cost a large share of the throughput of cheap routes; reverse proxies
    // keep access logs, we log errors and 5xx.
    logController: new LogController({ disableRequestLogging: true }),
    // request.log makes its pino child only when something logs: most requests never do.
    childLoggerFactory: requestLoggerFactory,
    requestIdHeader: 'x-request-id',
    // A malformed %-escape or an over-long path parameter: the same JSON envelope as every other error.
    // Document names (up to 255 characters) are path parameters; the default cap is 100.
    routerOptions: { maxParamLength: 512 },
    frameworkErrors: (error, _request, reply) => { (reply as FastifyReply).code(error.statusCode ?? 400).send({ success: false, message: error.message }) },
    ajv: { customOptions: { coerceTypes: true, removeAdditional: true, useDefaults: true } },
    schemaController: { compilersFactory: { buildValidator } }
  }
}

/** The whole service as one plugin: external wiring, our decorators, then the routes. */
const documindApp = fp<{ config: RunnableConfig }>(async function documindApp (fastify, opts) {
  const { config } = opts
  fastify.decorate('config', config)

  // Bodies that ignore their content (DELETE /documents/x, POST /documents/clear-all) may arrive as an
  // empty `application/json`; Fastify would answer 400, and clients send them.
  const parseJson = fastify.getDefaultJsonParser('error', 'error')
  fastify.removeContentTypeParser('application/json')
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (typeof body === 'string' && body.trim() === '') {
      done(null, undefined)
      return
    }
    parseJson(request, body.toString(), done)
  })

  fastify.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500
    if (error.validation !== undefined) {
      return reply.code(400).send({ success: false, message: error.message })
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({ success: false, message: 'Request body too large.' })
    }
    if (status < 500) {
      return reply.code(status).send({ success: false, message: error.message })
    }
    if (isInvalidInputError(error)) return reply.code(400).send({ success: false, message: 'Invalid input: a value contains characters that cannot be stored or is too long.' })
    if (isMissingUserError(error)) return reply.code(404).send({ success: false, message: 'User not found' })
    if (MALFORMED_MULTIPART_MESSAGE.test(error.message)) return reply.code(400).send({ success: false, message: 'Malformed multipart body' })
    if (isStoreUnavailable(error)) {
      request.log.warn({ code: error.code, message: error.message }, 'store unavailable')
      return reply.code(503).header('retry-after', '5').send({ success: false, message: STORE_UNAVAILABLE_MESSAGE })
    }
    request.log.error({ err: error }, 'request failed')
    // 5xx details stay in the log.
    return reply.code(status).send({ success: false, message: 'An error occurred' })
  })

  fastify.setNotFoundHandler((request, reply) => {
    return reply.code(404).send({ success: false, message: `Route ${request.method} ${request.url.split('?')[0] ?? ''} not found` })
  })

  await fastify.register(gracefulShutdown)
  // Before every route: it times each one through the route's own onResponse hook.
  await fastify.register(metrics, { ...config.metrics, dataDir: config.dataDir })
  await fastify.register(securityHeaders)
  await fastify.register(cors, { origins: config.corsOrigins })
  // After CORS and security headers, whose onRequest hooks give its 429 their headers.
  await fastify.register(requestIntake, {
    windowMs: config.requests.bodyWindowMs,
    minBytes: config.requests.bodyMinBytes,
    maxPerAddress: config.requests.maxPendingBodiesPerAddress
  })
  await fastify.register(postgres, { connectionString: config.databaseUrl, max: config.dbPoolMax, migrate: config.migrateOnBoot })
  await fastify.register(redis, { url: config.redisUrl })
  await fastify.register(groq, {
    apiKey: config.groq.apiKey,
    baseUrl: config.groq.baseUrl,
    timeoutMs: config.groq.timeoutMs,
    maxRetries: config.groq.maxRetries
  })
  // Registered and awaited before any route, so every route gets its limits.
  await fastify.register(rateLimit, { keyPrefix: config.redisKeyPrefix })
  await fastify.register(rateLimitPolicy, { defaultLimits: config.rateLimits.default })

  await fastify.register(passwordHasher, { cost: config.bcryptCost, concurrency: config.bcryptConcurrency })
  await fastify.register(accessTokens, { secret: config.jwtSecret })
  await fastify.register(authenticate)
  await fastify.register(usersRepository)
  await fastify.register(passwordResets)
  await fastify.register(mailer, { smtpUrl: config.smtpUrl, from: config.mailFrom, mailDir: join(config.dataDir, 'mail') })
  await fastify.register(kvStore)
  await fastify.register(queryQuota)
  await fastify.register(chatHistory)
  await fastify.register(answerCache)
  await fastify.register(documentsRepository)
  await fastify.register(ingestion)
  await fastify.register(answering)
  await fastify.register(audioStore, { ttlHours: config.speech.audioTtlHours })
  await fastify.register(speech, config.speech)
  await fastify.register(voicePreferences)
  await fastify.register(feedback)
  await fastify.register(usageStats)
  // After the limit policy and before the routes: it records every route as it is added.
  if (config.apiDocs) await fastify.register(swagger)

  await fastify.register(healthRoutes)
  await fastify.register(authRoutes, { prefix: '/auth' })
  await fastify.register(uploadRoutes)
  await fastify.register(documentsRoutes, { prefix: '/documents' })
  await fastify.register(askRoutes)
  await fastify.register(clearRoutes)
  await fastify.register(limitsRoutes)
  await fastify.register(audioRoutes)
  await fastify.register(ttsRoutes)
  await fastify.register(speakRoutes)
  await fastify.register(transcribeRoutes)
  await fastify.register(voiceRoutes)
  await fastify.register(voiceQueryRoutes)
  await fastify.register(feedbackRoutes)
  await fastify.register(statsRoutes)
  await fastify.register(userRoutes)
  await fastify.register(cacheRoutes)
  await fastify.register(metricsRoutes)
}, { name: 'documind-app' })

export default documindApp

export async function buildApp (config: RunnableConfig, overrides: FastifyHttpOptions<Server> = {}): Promise<FastifyInstance> {
  const app = Fastify({ ...serverOptions(config), ...overrides }).withTypeProvider<TypeBoxTypeProvider>()
  await app.register(documindApp, { config })
  await app.ready()
  return app
}
