import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { HealthResponse, ReadyResponse } from '../../schemas/health.js'

const PROBE_TIMEOUT_MS = 1000

function withTimeout<T> (promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)
    promise.then(
      (value) => { clearTimeout(timer); resolve(value) },
      (err: unknown) => { clearTimeout(timer); reject(err instanceof Error ? err : new Error(String(err))) }
    )
  })
}

const healthRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  // Liveness: answers from memory only, so monitors and load balancers can poll it freely.
  fastify.get('/health', {
    config: { rateLimitPolicy: false },
    schema: { response: { 200: HealthResponse } }
  }, async () => {
    const { redis } = fastify
    let cache
    if (redis === null) {
      cache = { healthy: false, mode: 'disabled', message: 'Redis cache is disabled' }
    } else if (redis.status === 'ready') {
      cache = { healthy: true, mode: 'local', message: 'Redis cache is healthy (local)' }
    } else {
      cache = { healthy: false, mode: 'local', error: `connection ${redis.status}`, message: 'Redis connection failed' }
    }
    return { success: true, status: 'healthy', components: { rag_system: 'healthy', vector_store: 'healthy', cache } }
  })

  // Readiness: probes the stores every request depends on.
  fastify.get('/health/ready', {
    config: { rateLimitPolicy: false },
    schema: { response: { 200: ReadyResponse, 503: ReadyResponse } }
  }, async (_request, reply) => {
    const probe = async (fn: () => Promise<unknown>): Promise<string> => {
      try {
        await withTimeout(fn(), PROBE_TIMEOUT_MS)
        return 'ok'
      } catch (err) {
        return `error: ${err instanceof Error ? err.message : String(err)}`
      }
    }
    const { redis } = fastify
    const [postgres, redisState] = await Promise.all([
      probe(() => fastify.pg.query('SELECT 1')),
      redis === null ? Promise.resolve('disabled') : probe(() => redis.ping())
    ])
    const draining = fastify.gracefulShutdown.draining
    const ok = !draining && postgres === 'ok' && (redisState === 'ok' || redisState === 'disabled')
    return reply.code(ok ? 200 : 503).send({
      success: ok,
      status: ok ? 'ready' : draining ? 'draining' : 'unavailable',
      checks: { postgres, redis: redisState }
    })
  })
}

export default healthRoutes
