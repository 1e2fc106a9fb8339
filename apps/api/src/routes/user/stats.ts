import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { MessageResponse, UnauthorizedResponse } from '../../schemas/common.js'
import { UserStatsResponse } from '../../schemas/stats.js'

/** GET /user/stats: the caller's own usage counts. */
const userStatsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
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
}

export default userStatsRoutes
