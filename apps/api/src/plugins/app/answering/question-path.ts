import type { FastifyInstance, FastifyReply } from 'fastify'
import type { Static } from 'typebox'
import { isLongerThan } from '../../../lib/answer-text.js'
import type { AskInput, AskResult } from './answering.js'
import { isAnsweringError } from './answering-llm.js'
import type { DocumentsSnapshot } from '../documents/documents-repository.js'
import { quotaExceededBody, type QuotaState } from '../limits/query-quota.js'
import type { AnswerLimitsValue, NoDocumentsResponse } from '../../../schemas/answering.js'

// The one path a question takes, typed (/ask, JSON or streamed) or spoken (/voice-query): checks,
// quota, answering, the usage event, the refund of an unanswered question and the error replies.

export const NO_DOCUMENTS_MESSAGE = 'Please upload at least one PDF document before asking questions.'

type Admission =
  | { outcome: 'quota-exceeded', quota: QuotaState }
  | { outcome: 'no-documents' }
  | { outcome: 'admitted', quota: QuotaState, snapshot: DocumentsSnapshot }

/**
 * The gate in front of answering: the daily query quota and at least one ready document. Both are
 * read at once (one round trip less than in turn), and the snapshot goes on to the answering
 * pipeline, which would read it again otherwise.
 */
async function admit (fastify: FastifyInstance, userId: string): Promise<Admission> {
  const [quota, snapshot] = await Promise.allSettled([fastify.queryQuota.consume(userId), fastify.documentsRepository.snapshot(userId)])
  if (quota.status === 'rejected') throw quota.reason
  if (!quota.value.allowed) return { outcome: 'quota-exceeded', quota: quota.value }
  if (snapshot.status === 'rejected' || snapshot.value.refs.length === 0) {
    await fastify.queryQuota.refund(userId)
    if (snapshot.status === 'rejected') throw snapshot.reason
    return { outcome: 'no-documents' }
  }
  return { outcome: 'admitted', quota: quota.value, snapshot: snapshot.value }
}

export interface Question<T> {
  userId: string
  /** As typed or transcribed; trimmed here, once. */
  text: string
  /** The 200 `{success:false, message}` for an empty question. */
  emptyMessage: string
  /** How the 400 for a question over ASK_MAX_QUESTION_CHARS names it. */
  noun: string
  /** `document_name` as sent: absent, null or '' searches all of the user's documents. */
  documentName: string | null | undefined
  /** The usage event's `source` (GET /user/stats). */
  source: 'ask' | 'voice'
  /** Aborts when the client goes away. */
  signal: AbortSignal
  /** Streams the answer: the pipeline's hooks, given the quota to report first. */
  stream?: ((limits: AnswerLimitsValue) => Pick<AskInput, 'onStart' | 'onDelta'>) | undefined
  /** Builds (and, for a stream, sends) the route's answer. */
  respond: (answered: { question: string, result: AskResult, limits: AnswerLimitsValue }) => Promise<T>
  /**
   * A failure once part of the answer was sent (a stream): the route reports it its own way and
   * returns the reply. null when nothing was sent yet: the failure is then answered by status.
   */
  failedMidStream?: ((err: unknown) => FastifyReply | null) | undefined
}

type Refusal = { success: false, message: string } | Static<typeof NoDocumentsResponse>

/**
 * Answers one question. An empty question and one over ASK_MAX_QUESTION_CHARS are refused before the
 * quota counts them; a question that gets no answer (no documents, an upstream failure, the client
 * gone, any other error) gives its quota back.
 */
export async function answerQuestion<T> (fastify: FastifyInstance, reply: FastifyReply, q: Question<T>): Promise<T | Refusal | FastifyReply> {
  const question = q.text.trim()
  if (question === '') return { success: false, message: q.emptyMessage }
  const maxChars = fastify.config.ask.maxQuestionChars
  if (isLongerThan(question, maxChars)) {
    return reply.code(400).send({ success: false, message: `${q.noun} is too long: at most ${maxChars} characters. Please ask a shorter question.` })
  }

  const admission = await admit(fastify, q.userId)
  if (admission.outcome === 'quota-exceeded') return reply.code(429).send(quotaExceededBody(admission.quota))
  if (admission.outcome === 'no-documents') return { success: false, message: NO_DOCUMENTS_MESSAGE, no_documents: true }
  const limits = { queries_remaining: admission.quota.remaining, queries_limit: admission.quota.limit }
  const documentName = q.documentName === undefined || q.documentName === '' ? null : q.documentName

  try {
    const result = await fastify.answering.ask({ userId: q.userId, question, documentName, snapshot: admission.snapshot, signal: q.signal, ...q.stream?.(limits) })
    const answer = await q.respond({ question, result, limits })
    // One event per answered question: GET /user/stats counts them.
    fastify.usersRepository.recordEvent(q.userId, 'query_asked', { source: q.source, cached: result.metadata.cached })
      .catch((err: unknown) => reply.log.warn({ err }, 'usage event not recorded'))
    return answer
  } catch (err) {
    await fastify.queryQuota.refund(q.userId)
    const reported = q.failedMidStream?.(err) ?? null
    if (reported !== null) return reported
    if (!isAnsweringError(err)) throw err
    if (err.retryAfterSeconds !== undefined) reply.header('retry-after', err.retryAfterSeconds)
    return reply.code(err.statusCode).send({ success: false, message: err.message })
  }
}
