import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { MessageResponse, UnauthorizedResponse } from '../../schemas/common.js'
import { LimitsResponse } from '../../schemas/limits.js'

const limitsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { maxPerUser, maxUploadBytes } = fastify.config.documents

  async function planType (userId: string): Promise<string> {
    const { rows } = await fastify.pg.query<{ plan_type: string }>('SELECT plan_type FROM user_plans WHERE user_id = $1', [userId])
    return rows[0]?.plan_type ?? 'free'
  }

  // Reads the quota without counting: looking at the quota must not use a question.
  fastify.get('/limits', {
    preParsing: fastify.authenticate,
    schema: { response: { 200: Type.Union([LimitsResponse, MessageResponse]), 401: UnauthorizedResponse } }
  }, async (request) => {
    const userId = request.user.id
    try {
      const [documents, quota, plan] = await Promise.all([
        fastify.documentsRepository.count(userId),
        fastify.queryQuota.peek(userId),
        planType(userId)
      ])
      const documentsRemaining = Math.max(0, maxPerUser - documents)
      return {
        success: true as const,
        usage: {
          documents: { current: documents, limit: maxPerUser, remaining: documentsRemaining, can_upload: documentsRemaining > 0 },
          queries: { limit_per_day: quota.limit, remaining_today: quota.remaining, can_query: quota.remaining > 0, reset_at: quota.resetAt },
          file_size: { max_mb: Math.round((maxUploadBytes / (1024 * 1024)) * 100) / 100 },
          documents_used: documents,
          max_documents: maxPerUser,
          documents_remaining: documentsRemaining,
          queries_today: Math.min(quota.used, quota.limit),
          max_queries_per_day: quota.limit,
          queries_remaining: quota.remaining,
          plan_type: plan
        },
        beta_info: { message: 'These are beta limits and may change.', upgrade_available: false }
      }
    } catch (err) {
      request.log.error({ err }, 'reading limits failed')
      return { success: false, message: 'Failed to read usage limits' }
    }
  })
}

export default limitsRoutes
