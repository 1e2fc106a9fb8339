/**
 * POST /ask and POST /clear.
 *
 * `Accept: text/event-stream` on /ask streams the answer (additive: JSON stays the default):
 *   event: metadata            data: {"metadata":{...},"sources":[...],"limits":{...}}   (once, first)
 *   (unnamed "message" events) data: {"delta":"<next piece of the answer>"}           (the pieces concatenate to the answer)
 *   event: done                data: <exactly the JSON body /ask would have answered>   (last)
 *   event: error               data: {"success":false,"message":"..."}                  (instead of done, on a failure mid-stream)
 * Everything decided before the first piece (empty or too long question, quota 429, no documents, an upstream
 * 429/5xx/timeout) is answered as plain JSON with its status, as without streaming.
 */
import { PassThrough } from 'node:stream'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type, type Static } from 'typebox'
import type { AskResult } from '../../plugins/app/answering.js'
import { isAnsweringError } from '../../plugins/app/answering-llm.js'
import { quotaExceededBody } from '../../plugins/app/query-quota.js'
import { MessageResponse, Nullable, OptionalString, UnauthorizedResponse } from '../../schemas/common.js'
import { admitQuestion, questionTooLongMessage } from './admission.js'

const AskBody = Nullable(Type.Object({
  question: Type.Optional(Type.String()),
  document_name: OptionalString,
  language: OptionalString
}))

const AskMetadata = Type.Object({
  sources_used: Type.Integer(),
  confidence: Type.Number({ minimum: 0, maximum: 1 }),
  query_type: Type.String(),
  cached: Type.Boolean(),
  model: Type.Optional(Type.String())
})

const AskSource = Type.Object({ document: Type.String(), page: Type.Integer(), snippet: Type.String() })

const AskLimits = Type.Object({ queries_remaining: Type.Integer(), queries_limit: Type.Integer() })

/** Filled by the voice routes' background speech (contract §5.4); null when no engine is available. */
const AskAudio = Type.Union([
  Type.Object({ url: Type.String(), generating: Type.Boolean(), audio_id: Type.String() }, { additionalProperties: true }),
  Type.Null()
])

const AskResponse = Type.Object({
  success: Type.Literal(true),
  answer: Type.String(),
  metadata: AskMetadata,
  sources: Type.Array(AskSource),
  limits: AskLimits,
  audio: Type.Optional(AskAudio)
})

const QuotaExceededResponse = Type.Object({
  success: Type.Literal(false),
  message: Type.String(),
  limit_reached: Type.Literal(true),
  limits: Type.Object({
    allowed: Type.Literal(false),
    remaining: Type.Integer(),
    limit: Type.Integer(),
    reset_at: Type.Integer(),
    message: Type.String()
  })
})

const NoDocumentsResponse = Type.Object({
  success: Type.Literal(false),
  message: Type.String(),
  no_documents: Type.Literal(true)
})

export const NO_DOCUMENTS_MESSAGE = 'Please upload at least one PDF document before asking questions.'

type AskLimitsValue = { queries_remaining: number, queries_limit: number }
type AskResponseBody = Static<typeof AskResponse>

/** `language` as the contract reads it: auto (default), en, kn, hi; anything else is en. */
function normaliseLanguage (value: string | null | undefined): string {
  const language = (value ?? 'auto').trim().toLowerCase()
  return ['auto', 'en', 'kn', 'hi'].includes(language) ? language : 'en'
}

/** Aborts when the client disconnects before the response is complete. */
function clientGone (reply: FastifyReply): { signal: AbortSignal, release: () => void } {
  const controller = new AbortController()
  const onClose = (): void => { if (!reply.raw.writableFinished) controller.abort() }
  reply.raw.once('close', onClose)
  return { signal: controller.signal, release: () => reply.raw.off('close', onClose) }
}

const askRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  // ==== /ask RESPONSE ASSEMBLY: the one place the success body is built (JSON and the SSE `done` event).
  // The voice routes add `audio` here (contract §5.4: {url, generating, audio_id}).
  async function assembleAskResponse (
    _request: FastifyRequest, ctx: { userId: string, language: string, result: AskResult, limits: AskLimitsValue }
  ): Promise<AskResponseBody> {
    // The answer's speech is synthesized in the background; the URL exists once it is done (the UI
    // polls HEAD). null when this server has no speech engine or its queue is full.
    const audio = fastify.speech.scheduleAnswerAudio({ userId: ctx.userId, text: ctx.result.answer, language: ctx.language })
    // One event per answered question: GET /user/stats counts them (as /voice-query records its own).
    fastify.users.recordEvent(ctx.userId, 'query_asked', { source: 'ask', cached: ctx.result.metadata.cached })
      .catch((err: unknown) => fastify.log.warn({ err }, 'usage event not recorded'))
    return { success: true, answer: ctx.result.answer, metadata: ctx.result.metadata, sources: ctx.result.sources, limits: ctx.limits, audio }
  }
  // ==== end of /ask response assembly

  fastify.post('/ask', {
    preParsing: fastify.authenticate,
    schema: {
      body: AskBody,
      response: {
        200: Type.Union([AskResponse, NoDocumentsResponse, MessageResponse]),
        400: MessageResponse,
        401: UnauthorizedResponse,
        429: QuotaExceededResponse,
        499: MessageResponse,
        502: MessageResponse,
        503: MessageResponse,
        504: MessageResponse
      }
    }
  }, async (request, reply) => {
    const question = (request.body?.question ?? '').trim()
    if (question === '') return { success: false, message: 'Please enter a question' }
    const tooLong = questionTooLongMessage(question, fastify.config.ask.maxQuestionChars)
    if (tooLong !== null) return reply.code(400).send({ success: false, message: tooLong })
    const userId = request.user.id
    const language = normaliseLanguage(request.body?.language)
    const documentName = request.body?.document_name ?? null

    // Unlike the original, a question that is not answered (no documents, any failure) does not use up the quota.
    const admission = await admitQuestion(fastify, userId)
    if (admission.outcome === 'quota-exceeded') return reply.code(429).send(quotaExceededBody(admission.quota))
    if (admission.outcome === 'no-documents') return { success: false, message: NO_DOCUMENTS_MESSAGE, no_documents: true }
    const { quota, snapshot } = admission
    const limits = { queries_remaining: quota.remaining, queries_limit: quota.limit }
    const gone = clientGone(reply)
    const wantsStream = (request.headers.accept ?? '').includes('text/event-stream')

    if (!wantsStream) {
      try {
        const result = await fastify.answering.ask({ userId, question, documentName, language, snapshot, signal: gone.signal })
        return await assembleAskResponse(request, { userId, language, result, limits })
      } catch (err) {
        await fastify.queryQuota.refund(userId)
        if (!isAnsweringError(err)) throw err
        if (err.retryAfterSeconds !== undefined) reply.header('retry-after', err.retryAfterSeconds)
        return reply.code(err.statusCode).send({ success: false, message: err.message })
      } finally {
        gone.release()
      }
    }

    // Server-sent events (see the format at the top of this file).
    const sse: { stream?: PassThrough } = {}
    const send = (event: string | null, data: unknown): void => {
      const stream = sse.stream
      if (stream === undefined || stream.destroyed) return
      stream.write(`${event === null ? '' : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`)
    }
    try {
      const result = await fastify.answering.ask({
        userId,
        question,
        documentName,
        language,
        snapshot,
        signal: gone.signal,
        onStart: ({ metadata, sources }) => {
          sse.stream = new PassThrough()
          reply.code(200)
            .header('content-type', 'text/event-stream; charset=utf-8')
            .header('cache-control', 'no-cache')
            .header('x-accel-buffering', 'no')
            // A stream body skips the response schema; the events are built by `send` below.
            .send(sse.stream as never)
          send('metadata', { metadata, sources, limits })
        },
        onDelta: (delta) => send(null, { delta })
      })
      send('done', await assembleAskResponse(request, { userId, language, result, limits }))
      sse.stream?.end()
      return reply
    } catch (err) {
      await fastify.queryQuota.refund(userId)
      if (sse.stream === undefined) {
        if (!isAnsweringError(err)) throw err
        if (err.retryAfterSeconds !== undefined) reply.header('retry-after', err.retryAfterSeconds)
        return reply.code(err.statusCode).send({ success: false, message: err.message })
      }
      // Headers are gone: the failure travels as an event.
      if (!isAnsweringError(err)) request.log.error({ err }, 'streamed answer failed')
      send('error', { success: false, message: isAnsweringError(err) ? err.message : 'An error occurred' })
      sse.stream.end()
      return reply
    } finally {
      gone.release()
    }
  })

  fastify.post('/clear', {
    preParsing: fastify.authenticate,
    schema: { response: { 200: MessageResponse, 401: UnauthorizedResponse } }
  }, async (request) => {
    await fastify.chatHistory.clear(request.user.id)
    return { success: true, message: 'Conversation cleared' }
  })
}

export default askRoutes
