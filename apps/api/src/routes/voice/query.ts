import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { isAnsweringError } from '../../plugins/app/answering-llm.js'
import { quotaExceededBody } from '../../plugins/app/query-quota.js'
import { SpeechError } from '../../plugins/app/speech-engines.js'
import { clientAbortSignal, readAudioUpload, sendSpeechError } from '../../plugins/app/speech-http.js'
import { normalizeLanguageCode, whisperLanguage } from '../../plugins/app/speech-text.js'
import { TRANSCRIPTION_UNAVAILABLE_MESSAGE } from '../../plugins/app/speech.js'
import { MessageResponse, UnauthorizedResponse } from '../../schemas/common.js'
import { admitQuestion, questionTooLongMessage } from '../ask/admission.js'
import { NO_DOCUMENTS_MESSAGE } from '../ask/index.js'
import multipart from '../../plugins/external/multipart.js'

const VoiceQueryResponse = Type.Object({
  success: Type.Literal(true),
  question: Type.String(),
  answer: Type.String(),
  /** null (with `audio_error`) when the answer could not be spoken; the answer is still delivered. */
  audio_url: Type.Union([Type.String(), Type.Null()]),
  audio_error: Type.Optional(Type.String()),
  transcription_language: Type.String(),
  metadata: Type.Object({
    sources_used: Type.Integer(),
    confidence: Type.Number(),
    query_type: Type.String(),
    cached: Type.Optional(Type.Boolean()),
    model: Type.Optional(Type.String())
  }),
  /** Added, as on /ask: the daily quota after this question. */
  limits: Type.Object({ queries_remaining: Type.Integer(), queries_limit: Type.Integer() })
})

const NoDocumentsResponse = Type.Object({ success: Type.Literal(false), message: Type.String(), no_documents: Type.Literal(true) })

const QuotaExceededResponse = Type.Object({
  success: Type.Literal(false),
  message: Type.String(),
  limit_reached: Type.Literal(true),
  limits: Type.Object({ allowed: Type.Literal(false), remaining: Type.Integer(), limit: Type.Integer(), reset_at: Type.Integer(), message: Type.String() })
})

/**
 * POST /voice-query (contract 5.7): transcribe, answer over all of the user's documents, speak the
 * answer synchronously. Fix vs the original: the question counts against the daily quota like /ask
 * (the original let voice questions bypass it). Failed transcriptions cost nothing; a question that
 * could not be answered is refunded, as /ask does.
 */
const voiceQueryRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  await fastify.register(multipart)
  fastify.post('/voice-query', {
    preParsing: fastify.authenticate,
    schema: {
      consumes: ['multipart/form-data'],
      response: {
        200: Type.Union([VoiceQueryResponse, NoDocumentsResponse, MessageResponse]),
        400: MessageResponse,
        401: UnauthorizedResponse,
        413: MessageResponse,
        429: QuotaExceededResponse,
        499: MessageResponse,
        502: MessageResponse,
        503: MessageResponse,
        504: MessageResponse
      }
    }
  }, async (request, reply) => {
    if (!fastify.speech.canTranscribe) return sendSpeechError(reply, new SpeechError('unavailable', TRANSCRIPTION_UNAVAILABLE_MESSAGE))
    const upload = await readAudioUpload(request)
    if (!upload.ok) return reply.code(upload.status).send({ success: false, message: upload.message })
    const userId = request.user.id
    const signal = clientAbortSignal(reply)
    const requested = whisperLanguage(upload.fields.language)

    let transcript
    try {
      transcript = await fastify.speech.transcribe({ bytes: upload.bytes, filename: upload.filename, contentType: upload.contentType, language: requested, signal })
    } catch (err) {
      return sendSpeechError(reply, err)
    }
    const question = transcript.text.trim()
    if (question === '') return { success: false, message: 'Could not transcribe audio' }
    const tooLong = questionTooLongMessage(question, fastify.config.ask.maxQuestionChars, 'The transcribed question')
    if (tooLong !== null) return reply.code(400).send({ success: false, message: tooLong })
    const transcriptionLanguage = requested ?? normalizeLanguageCode(transcript.language) ?? 'en'

    const admission = await admitQuestion(fastify, userId)
    if (admission.outcome === 'quota-exceeded') return reply.code(429).send(quotaExceededBody(admission.quota))
    if (admission.outcome === 'no-documents') return { success: false, message: NO_DOCUMENTS_MESSAGE, no_documents: true }
    const { quota, snapshot } = admission

    let result
    try {
      result = await fastify.answering.ask({ userId, question, documentName: null, language: transcriptionLanguage, snapshot, signal })
    } catch (err) {
      if (!isAnsweringError(err)) throw err
      await fastify.queryQuota.refund(userId)
      if (err.retryAfterSeconds !== undefined) reply.header('retry-after', err.retryAfterSeconds)
      return reply.code(err.statusCode).send({ success: false, message: err.message })
    }
    fastify.users.recordEvent(userId, 'query_asked', { source: 'voice', cached: result.metadata.cached })
      .catch((err: unknown) => request.log.warn({ err }, 'usage event not recorded'))

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
      limits: { queries_remaining: quota.remaining, queries_limit: quota.limit }
    }
  })
}

export default voiceQueryRoutes
