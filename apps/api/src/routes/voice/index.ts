import type { FastifyPluginAsync } from 'fastify'
import voicePreferencesRoutes from './preferences.js'

/** /voice/preferences. */
const voiceRoutes: FastifyPluginAsync = async (fastify) => {
  await fastify.register(voicePreferencesRoutes)
}

export default voiceRoutes
