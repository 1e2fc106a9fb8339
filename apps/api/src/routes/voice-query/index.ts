import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { whileClientConnected } from '../../lib/client-disconnect.js'
import { SpeechError } from '../../plugins/app/speech/speech-engines.js'
import { readAudioUpload, sendSpeechError } from '../../plugins/app/speech/speech-http.js'
import { normalizeLanguageCode, whisperLanguage } from '../../plugins/app/speech/speech-text.js'
import { TRANSCRIPTION_UNAVAILABLE_MESSAGE } from '../../plugins/app/speech/speech.js'
import { answerQuestion } from '../../plugins/app/answering/question-path.js'
import { NoDocumentsResponse, QuestionErrorResponses, VoiceQueryResponse } from '../../schemas/answering.js'
import { MessageResponse, UnauthorizedResponse } from '../../schemas/common.js'
import multipart from '../../plugins/external/multipart.js'

/**
 * POST /voice-query: transcribe, answer over all of the user's documents, speak the answer
 * synchronously. The question counts against the daily quota shared with /ask (the Flask backend let
 * voice questions bypass it). Failed transcriptions cost nothing; a question that gets no answer is
 * refunded, as on /ask (question-path.ts).
 */
const voiceQueryRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  await fastify.register(multipart)
  fastify.post('/voice-query', {
    preParsing: fastify.authenticate,
    schema: {
      consumes: ['multipart/form-data'],
      response: {
        200: Type.Union([VoiceQueryResponse, NoDocumentsResponse, MessageResponse]),
        401: UnauthorizedResponse,
        413: MessageResponse,
        ...QuestionErrorResponses
      }
    }
  }, async (request, reply) => {
    if (!fastify.speech.canTranscribe) return sendSpeechError(reply, new SpeechError('unavailable', TRANSCRIPTION_UNAVAILABLE_MESSAGE))
    const upload = await readAudioUpload(request)
    if (!upload.ok) return reply.code(upload.status).send({ success: false, message: upload.message })
    const userId = request.user.id
    const requested = whisperLanguage(upload.fields.language)

    return await whileClientConnected(reply, async (signal) => {
      let transcript
      try {
        transcript = await fastify.speech.transcribe({ bytes: upload.bytes, filename: upload.filename, contentType: upload.contentType, language: requested, signal })
      } catch (err) {
        return sendSpeechError(reply, err)
      }
      const transcriptionLanguage = requested ?? normalizeLanguageCode(transcript.language) ?? 'en'

      return await answerQuestion(fastify, reply, {
        userId,
        text: transcript.text,
        emptyMessage: 'Could not transcribe audio',
        noun: 'The transcribed question',
        documentName: null,
        source: 'voice',
        signal,
        respond: async ({ question, result, limits }) => {
          // The question was answered (and counted); a speech failure only costs the audio.
          let audioUrl: string | null = null
          let audioError: string | undefined
          try {
            audioUrl = (await fastify.speech.speak({ userId, text: result.answer, language: upload.fields.language ?? 'auto', signal })).audio_url
          } catch (err) {
            if (!(err instanceof SpeechError)) throw err
            audioError = err.message
          }
          return {
            success: true as const,
            question,
            answer: result.answer,
            audio_url: audioUrl,
            ...(audioError === undefined ? {} : { audio_error: audioError }),
            transcription_language: transcriptionLanguage,
            metadata: result.metadata,
            limits
          }
        }
      })
    })
  })
}

export default voiceQueryRoutes
