import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { MessageResponse, UnauthorizedResponse } from '../../schemas/common.js'
import { CacheStatsResponse, type CacheStatsValue } from '../../schemas/stats.js'

/** The caller's entries in the shared store: the CacheStats shape clients read, scoped to one user (also in GET /stats). */
export async function cacheStatsFor (fastify: FastifyInstance, userId: string): Promise<CacheStatsValue> {
  try {
    // Probes the store itself: the history and quota readers fail soft and would hide an outage.
    await fastify.kvStore.get('cache-stats-probe')
  } catch {
    return { enabled: true, mode: fastify.kvStore.kind, connection: 'error', total_keys: 0 }
  }
  const [history, quota] = await Promise.all([fastify.chatHistory.load(userId), fastify.queryQuota.peek(userId)])
  const sessionKeys = history.length > 0 ? 1 : 0
  const rateKeys = quota.used > 0 ? 1 : 0
  return { enabled: true, mode: fastify.kvStore.kind, connection: 'active', session_keys: sessionKeys, rate_keys: rateKeys, total_keys: sessionKeys + rateKeys }
}

/**
 * GET /cache/stats and POST /cache/clear: the caller's own entries only. Quotas are never cleared:
 * the Flask backend's /cache/clear reset everyone's daily quota.
 */
const cacheRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/cache/stats', {
    preParsing: fastify.authenticate,
    schema: { response: { 200: CacheStatsResponse, 401: UnauthorizedResponse } }
  }, async (request) => ({ success: true as const, cache: await cacheStatsFor(fastify, request.user.id) }))

  fastify.post('/cache/clear', {
    preParsing: fastify.authenticate,
    schema: { response: { 200: MessageResponse, 401: UnauthorizedResponse } }
  }, async (request) => {
    try {
      await fastify.chatHistory.clear(request.user.id)
    } catch (err) {
      request.log.warn({ err }, 'cache clear failed')
      return { success: false, message: 'Cache not enabled or failed to clear' }
    }
    return { success: true, message: 'Cache cleared successfully' }
  })
}

export default cacheRoutes
