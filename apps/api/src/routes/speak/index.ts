import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { whileClientConnected } from '../../lib/client-disconnect.js'
import { sendSpeechError } from '../../plugins/app/speech/speech-http.js'
import { MessageResponse, UnauthorizedResponse } from '../../schemas/common.js'
import { SpeakBody, SpeakResponse } from '../../schemas/speech.js'

/** POST /speak: synchronous text-to-speech into the audio store. */
const speakRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/speak', {
    preParsing: fastify.authenticate,
    schema: {
      body: SpeakBody,
      response: { 200: Type.Union([SpeakResponse, MessageResponse]), 401: UnauthorizedResponse, 503: MessageResponse }
    }
  }, async (request, reply) => {
    const body = request.body ?? {}
    const text = (body.text ?? '').trim()
    if (text === '') return { success: false, message: 'No text provided' }
    try {
      const audio = await whileClientConnected(reply, async (signal) => await fastify.speech.speak({
        userId: request.user.id,
        text,
        language: body.language ?? 'auto',
        signal
      }))
      return { success: true as const, ...audio }
    } catch (err) {
      return sendSpeechError(reply, err)
    }
  })
}

export default speakRoutes
