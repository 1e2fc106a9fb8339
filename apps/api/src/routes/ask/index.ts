/**
 * POST /ask.
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
import type { FastifyReply } from 'fastify'
import { Type } from 'typebox'
import { whileClientConnected } from '../../lib/client-disconnect.js'
import type { AskResult } from '../../plugins/app/answering/answering.js'
import { isAnsweringError } from '../../plugins/app/answering/answering-llm.js'
import { answerQuestion } from '../../plugins/app/answering/question-path.js'
import { AskBody, AskResponse, NoDocumentsResponse, QuestionErrorResponses, type AnswerLimitsValue, type AskResponseBody } from '../../schemas/answering.js'
import { MessageResponse, UnauthorizedResponse } from '../../schemas/common.js'

/** `language`: auto (default), en, kn, hi; anything else is en. It only chooses the answer's voice. */
function normaliseLanguage (value: string | null | undefined): string {
  const language = (value ?? 'auto').trim().toLowerCase()
  return ['auto', 'en', 'kn', 'hi'].includes(language) ? language : 'en'
}

/** The server-sent events of one streamed answer (see the format at the top of this file). */
function eventStream (reply: FastifyReply) {
  let stream: PassThrough | undefined
  const send = (event: string | null, data: unknown): void => {
    if (stream === undefined || stream.destroyed) return
    stream.write(`${event === null ? '' : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`)
  }
  return {
    send,
    /** Sends the headers and the first event; from here on, failures travel as events. */
    open (metadata: unknown): void {
      stream = new PassThrough()
      reply.code(200)
        .header('content-type', 'text/event-stream; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('x-accel-buffering', 'no')
        // A stream body skips the response schema; the events are built by `send`.
        .send(stream as never)
      send('metadata', metadata)
    },
    end (): FastifyReply {
      stream?.end()
      return reply
    },
    /** The failure as an `error` event once the stream is open; null before (answered by status). */
    fail (err: unknown): FastifyReply | null {
      if (stream === undefined) return null
      if (!isAnsweringError(err)) reply.log.error({ err }, 'streamed answer failed')
      send('error', { success: false, message: isAnsweringError(err) ? err.message : 'An error occurred' })
      stream.end()
      return reply
    }
  }
}

const askRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  /** The one place the success body is built (JSON and the SSE `done` event). */
  function askResponse (userId: string, language: string, result: AskResult, limits: AnswerLimitsValue): AskResponseBody {
    // The answer's speech is synthesized in the background; the URL exists once it is done (the UI
    // polls HEAD). null when this server has no speech engine or its queue is full.
    const audio = fastify.speech.scheduleAnswerAudio({ userId, text: result.answer, language })
    return { success: true, answer: result.answer, metadata: result.metadata, sources: result.sources, limits, audio }
  }

  fastify.post('/ask', {
    preParsing: fastify.authenticate,
    schema: {
      body: AskBody,
      response: {
        200: Type.Union([AskResponse, NoDocumentsResponse, MessageResponse]),
        401: UnauthorizedResponse,
        ...QuestionErrorResponses
      }
    }
  }, async (request, reply) => {
    const userId = request.user.id
    const language = normaliseLanguage(request.body?.language)
    const sse = (request.headers.accept ?? '').includes('text/event-stream') ? eventStream(reply) : null
    return await whileClientConnected(reply, async (signal) => await answerQuestion(fastify, reply, {
      userId,
      text: request.body?.question ?? '',
      emptyMessage: 'Please enter a question',
      noun: 'Question',
      documentName: request.body?.document_name,
      source: 'ask',
      signal,
      stream: sse === null
        ? undefined
        : (limits) => ({
            onStart: ({ metadata, sources }) => sse.open({ metadata, sources, limits }),
            onDelta: (delta) => sse.send(null, { delta })
          }),
      respond: async ({ result, limits }) => {
        const body = askResponse(userId, language, result, limits)
        if (sse === null) return body
        sse.send('done', body)
        return sse.end()
      },
      failedMidStream: sse?.fail
    }))
  })
}

export default askRoutes
