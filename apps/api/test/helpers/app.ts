import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Writable } from 'node:stream'
import { startGroqMock, type GroqMock } from '@documind/groq-mock'
import { createDatabase, uniqueName, type ThrowawayDatabase } from '@documind/harness'
import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify'
import documindApp, { serverOptions, type RunnableConfig } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'

export { ADMIN_DATABASE_URL, uniqueName } from '@documind/harness'
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
export const TEST_JWT_SECRET = 'test-secret-of-at-least-32-characters!!'

/** A database of its own for one test file, so files run in parallel. */
export async function createTestDatabase (label: string): Promise<ThrowawayDatabase> {
  return await createDatabase(`documind_${label}`)
}

export interface TestAppOptions {
  label: string
  /** false runs without Redis: limits then live in Postgres. */
  redis?: boolean
  env?: Record<string, string>
  /** Receives every log line (level trace, with the service's redaction) as JSON. */
  logStream?: Writable
}

export interface TestApp {
  app: FastifyInstance
  config: RunnableConfig
  databaseUrl: string
  redisPrefix: string
  /** Every route the app registered, as its onRoute hooks left it: tests walk the whole route table. */
  routes: RouteOptions[]
  /** DATA_DIR of this app (a temporary directory, removed on close): mails land in its mail/ without SMTP_URL. */
  dataDir: string
  close: () => Promise<void>
}

export function testEnv (databaseUrl: string, redisPrefix: string, useRedis: boolean, env: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    DATABASE_URL: databaseUrl,
    ...(useRedis ? { REDIS_URL: TEST_REDIS_URL } : {}),
    REDIS_KEY_PREFIX: redisPrefix,
    SUPABASE_JWT_SECRET: TEST_JWT_SECRET,
    // Cost 4 keeps tests fast; the cost-12 path is covered by the Python-hash test and the benchmarks.
    BCRYPT_COST: '4',
    LOG_LEVEL: 'silent',
    ...env
  }
}

export async function buildTestApp (options: TestAppOptions): Promise<TestApp> {
  const db = await createTestDatabase(options.label)
  const redisPrefix = `${uniqueName(options.label)}:`
  const dataDir = await mkdtemp(join(tmpdir(), `documind-${options.label}-`))
  const config = loadConfig(testEnv(db.url, redisPrefix, options.redis ?? true, { DATA_DIR: dataDir, ...options.env })) as RunnableConfig
  const server = serverOptions(config)
  const logger = server.logger as Record<string, unknown>
  // buildApp's composition, with an onRoute hook in front of every plugin of the app.
  const routes: RouteOptions[] = []
  const app = Fastify(options.logStream === undefined ? server : { ...server, logger: { ...logger, level: 'trace', stream: options.logStream } })
  app.addHook('onRoute', (route) => { routes.push(route) })
  await app.register(documindApp, { config })
  await app.ready()
  return {
    app,
    config,
    databaseUrl: db.url,
    redisPrefix,
    routes,
    dataDir,
    async close () {
      await app.close()
      await db.drop()
      await rm(dataDir, { recursive: true, force: true })
    }
  }
}

export interface GroqTestApp extends TestApp {
  /** The Groq mock server the app answers, speaks and transcribes through; closed with the app. */
  mock: GroqMock
}

/** A test app whose Groq client talks to a mock server of its own, without retries (`options.env` may override). */
export async function buildGroqTestApp (options: TestAppOptions): Promise<GroqTestApp> {
  const mock = await startGroqMock({ port: 0 })
  try {
    const t = await buildTestApp({ ...options, env: { GROQ_API_KEY: 'test', GROQ_BASE_URL: mock.url, GROQ_MAX_RETRIES: '0', ...options.env } })
    return {
      ...t,
      mock,
      async close () {
        await t.close()
        await mock.close()
      }
    }
  } catch (err) {
    await mock.close()
    throw err
  }
}
