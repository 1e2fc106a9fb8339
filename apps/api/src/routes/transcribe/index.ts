import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { SpeechError } from '../../plugins/app/speech/speech-engines.js'
import { whileClientConnected } from '../../lib/client-disconnect.js'
import { readAudioUpload, sendSpeechError } from '../../plugins/app/speech/speech-http.js'
import { normalizeLanguageCode, whisperLanguage } from '../../plugins/app/speech/speech-text.js'
import { TRANSCRIPTION_UNAVAILABLE_MESSAGE } from '../../plugins/app/speech/speech.js'
import { MessageResponse, UnauthorizedResponse } from '../../schemas/common.js'
import { TranscribeResponse } from '../../schemas/speech.js'
import multipart from '../../plugins/external/multipart.js'

/**
 * POST /transcribe. Requires login like every other voice route, so nobody can spend the service's
 * Groq quota anonymously (it was public in the Flask backend; no client calls it).
 */
const transcribeRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  await fastify.register(multipart)
  fastify.post('/transcribe', {
    preParsing: fastify.authenticate,
    schema: {
      consumes: ['multipart/form-data'],
      response: { 200: Type.Union([TranscribeResponse, MessageResponse]), 401: UnauthorizedResponse, 413: MessageResponse, 503: MessageResponse }
    }
  }, async (request, reply) => {
    // Checked first, so a server without a key answers at once instead of after a 25 MB upload.
    if (!fastify.speech.canTranscribe) {
      return sendSpeechError(reply, new SpeechError('unavailable', TRANSCRIPTION_UNAVAILABLE_MESSAGE))
    }
    const upload = await readAudioUpload(request)
    if (!upload.ok) return reply.code(upload.status).send({ success: false, message: upload.message })
    const requested = whisperLanguage(upload.fields.language)
    try {
      const transcript = await whileClientConnected(reply, async (signal) => await fastify.speech.transcribe({
        bytes: upload.bytes,
        filename: upload.filename,
        contentType: upload.contentType,
        language: requested,
        signal
      }))
      return {
        success: true as const,
        text: transcript.text,
        language: requested ?? normalizeLanguageCode(transcript.language) ?? 'en',
        duration: transcript.duration
      }
    } catch (err) {
      return sendSpeechError(reply, err)
    }
  })
}

export default transcribeRoutes
