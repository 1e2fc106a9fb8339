import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type, type Static } from 'typebox'
import { MessageResponse, UnauthorizedResponse } from '../../schemas/common.js'

/** Retrieval is Postgres full-text search; the embedding fields clients read name that honestly. */
const RETRIEVAL_MODEL = 'postgres-fts-english'
const COLLECTION_NAME = 'document_chunks'

const CacheStats = Type.Object({
  enabled: Type.Boolean(),
  mode: Type.String(),
  connection: Type.Optional(Type.String()),
  /** The caller's conversation history (0 or 1). */
  session_keys: Type.Optional(Type.Integer()),
  /** The caller's daily quota counter (0 or 1); reported, never cleared. */
  rate_keys: Type.Optional(Type.Integer()),
  total_keys: Type.Integer()
})

const StatsResponse = Type.Object({
  success: Type.Literal(true),
  stats: Type.Object({
    vector_store: Type.Object({
      total_chunks: Type.Integer(),
      total_documents: Type.Integer(),
      document_names: Type.Array(Type.String()),
      embedding_model: Type.String(),
      collection_name: Type.String()
    }),
    models: Type.Object({ embedding_model: Type.String(), llm_model: Type.String() }),
    cache: CacheStats
  })
})

const UserStatsResponse = Type.Object({
  success: Type.Literal(true),
  stats: Type.Object({
    total_queries: Type.Integer(),
    total_documents: Type.Integer(),
    member_since: Type.String(),
    email: Type.String(),
    role: Type.Union([Type.String(), Type.Null()]),
    plan: Type.Optional(Type.Object({ type: Type.String(), max_documents: Type.Integer(), max_queries_per_day: Type.Integer() }))
  })
})

const CacheStatsResponse = Type.Object({ success: Type.Literal(true), cache: CacheStats })

/** The caller's entries in the shared store: the CacheStats shape clients read, scoped to one user. */
async function cacheStatsFor (fastify: FastifyInstance, userId: string): Promise<Static<typeof CacheStats>> {
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
 * GET /stats, GET /user/stats, GET /cache/stats, POST /cache/clear. All four require login and see or
 * touch only the caller's data, and quotas are never cleared: no user may list another's document
 * names or reset everyone's daily quota (both were possible in the Flask backend).
 */
const statsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/stats', {
    preParsing: fastify.authenticate,
    schema: { response: { 200: Type.Union([StatsResponse, MessageResponse]), 401: UnauthorizedResponse } }
  }, async (request) => {
    try {
      const [documents, cache] = await Promise.all([fastify.documentsRepository.list(request.user.id), cacheStatsFor(fastify, request.user.id)])
      return {
        success: true as const,
        stats: {
          vector_store: {
            total_chunks: documents.reduce((sum, d) => sum + d.total_chunks, 0),
            total_documents: documents.length,
            document_names: documents.map((d) => d.name),
            embedding_model: RETRIEVAL_MODEL,
            collection_name: COLLECTION_NAME
          },
          models: {
            embedding_model: RETRIEVAL_MODEL,
            llm_model: fastify.answering.mode === 'groq' ? fastify.config.groq.model : 'extractive'
          },
          cache
        }
      }
    } catch (err) {
      request.log.error({ err }, 'stats failed')
      return { success: false, message: 'Failed to load statistics' }
    }
  })

  fastify.get('/user/stats', {
    preParsing: fastify.authenticate,
    schema: { response: { 200: UserStatsResponse, 401: UnauthorizedResponse, 404: MessageResponse, 500: MessageResponse } }
  }, async (request, reply) => {
    const row = await fastify.usageStats.forUser(request.user.id)
    if (row === undefined) return reply.code(404).send({ success: false, message: 'User not found' })
    return {
      success: true as const,
      stats: {
        total_queries: row.total_queries,
        total_documents: row.total_documents,
        member_since: row.member_since,
        email: row.email,
        role: row.role,
        ...(row.plan_type === null
          ? {}
          : { plan: { type: row.plan_type, max_documents: row.max_documents ?? 0, max_queries_per_day: row.max_queries_per_day ?? 0 } })
      }
    }
  })

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

export default statsRoutes
