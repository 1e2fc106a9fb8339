import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { MessageResponse, UnauthorizedResponse } from '../../schemas/common.js'
import { StatsResponse } from '../../schemas/stats.js'
import { cacheStatsFor } from '../cache/index.js'

/** Retrieval is Postgres full-text search; the embedding fields clients read name that honestly. */
const RETRIEVAL_MODEL = 'postgres-fts-english'
const COLLECTION_NAME = 'document_chunks'

/**
 * GET /stats: requires login and sees only the caller's data, so no user may list another's document
 * names (possible in the Flask backend).
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
}

export default statsRoutes
