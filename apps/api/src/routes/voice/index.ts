import type { FastifyPluginAsync } from 'fastify'
import voicePreferencesRoutes from './preferences.js'
import voiceQueryRoutes from '../voice-query/index.js'

/** /voice/preferences and /voice-query. */
const voiceRoutes: FastifyPluginAsync = async (fastify) => {
  await fastify.register(voicePreferencesRoutes)
  await fastify.register(voiceQueryRoutes)
}

export default voiceRoutes
