import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { MessageResponse, UnauthorizedResponse } from '../../schemas/common.js'

/** POST /clear: forgets the caller's conversation history. */
const clearRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/clear', {
    preParsing: fastify.authenticate,
    schema: { response: { 200: MessageResponse, 401: UnauthorizedResponse } }
  }, async (request) => {
    await fastify.chatHistory.clear(request.user.id)
    return { success: true, message: 'Conversation cleared' }
  })
}

export default clearRoutes
