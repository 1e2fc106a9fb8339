import type { FastifyPluginAsync } from 'fastify'
import userStatsRoutes from './stats.js'

/** /user/stats. */
const userRoutes: FastifyPluginAsync = async (fastify) => {
  await fastify.register(userStatsRoutes)
}

export default userRoutes
