import fp from 'fastify-plugin'
import type { FastifyBaseLogger } from 'fastify'
import type Groq from 'groq-sdk'
import { classifyQuery, extractiveAnswer, isFollowUp, wantsLongAnswer, type QueryType } from '../../../lib/answer-text.js'
import type { AnswerCache } from './answer-cache.js'
import { groqCalls, type GroqCalls } from '../../../lib/groq-calls.js'
import { chatMessages, LlmAnswerer } from './answering-llm.js'
import { AnswerRetrieval, type Retrieval, type Source } from './answering-retrieval.js'
import type { ChatHistory } from './chat-history.js'
import type { DocumentRef, DocumentsRepository, DocumentsSnapshot } from '../documents/documents-repository.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The question-answering pipeline, shared by /ask and /voice-query. */
    answering: Answering
  }
}

export interface AskInput {
  userId: string
  /** Trimmed and not empty (question-path.ts checks it). */
  question: string
  /** Exact document_name to search; null searches all of the user's documents. */
  documentName: string | null
  /** The user's documents when the caller has read them already (it saves a round trip). */
  snapshot?: DocumentsSnapshot
  /** Abort when the client goes away: the upstream call is cancelled and nothing is saved. */
  signal?: AbortSignal
  /** Ask for a streamed answer: called once before the first delta (after upstream accepted the call). */
  onStart?: (start: { metadata: AskMetadata, sources: AskSource[] }) => void
  /** Receives the answer piece by piece; the pieces concatenate to `answer`. */
  onDelta?: (text: string) => void
}

export interface AskMetadata {
  sources_used: number
  confidence: number
  query_type: QueryType
  cached: boolean
  /** The Groq model that wrote the answer, or "extractive" for the offline answerer; absent on soft answers. */
  model?: string
}

export type AskSource = Source

export interface AskResult {
  answer: string
  metadata: AskMetadata
  sources: AskSource[]
}

export const NO_INFORMATION_ANSWER = "I couldn't find relevant information in the documents to answer your question."
export const PIPELINE_ERROR_ANSWER = 'I encountered an error while processing your question. Please try again.'
export const EXTRACTIVE_MODEL = 'extractive'

export interface AnsweringOptions {
  groq: Groq | null
  model: string
  /** Per-attempt timeout and retries of the Groq client; also bound our own waits. */
  timeoutMs: number
  maxRetries: number
  /** Timing and token counts of the Groq calls, for /metrics. */
  calls?: GroqCalls
  topK: number
  contextChars: number
}

export class Answering {
  readonly #retrieval: AnswerRetrieval
  /** null without GROQ_API_KEY: the extractive answerer writes every answer. */
  readonly #llm: LlmAnswerer | null

  constructor (
    private readonly documents: DocumentsRepository,
    private readonly history: ChatHistory,
    private readonly cache: AnswerCache,
    private readonly options: AnsweringOptions,
    private readonly log: FastifyBaseLogger
  ) {
    this.#retrieval = new AnswerRetrieval(documents, options.topK, options.contextChars)
    const { groq, model, timeoutMs, maxRetries } = options
    this.#llm = groq === null ? null : new LlmAnswerer({ groq, model, timeoutMs, maxRetries }, log, options.calls)
  }

  get mode (): 'groq' | 'extractive' {
    return this.#llm === null ? 'extractive' : 'groq'
  }

  /**
   * Answers a question over the user's documents: retrieval, cache, history, then Groq (or the
   * extractive answerer without GROQ_API_KEY). Rejects only with AnsweringError (upstream failure,
   * abort); a broken retrieval gives the soft error answer (PIPELINE_ERROR_ANSWER, status 200).
   */
  async ask (input: AskInput): Promise<AskResult> {
    const { question, documentName } = input

    let refs: DocumentRef[]
    let entries: string[]
    let retrieval: Retrieval
    let cacheKey: string | null = null
    let targets: DocumentRef[]
    try {
      const [snapshot, history] = await Promise.all([input.snapshot ?? this.documents.snapshot(input.userId), this.history.load(input.userId)])
      refs = snapshot.refs
      entries = history
      targets = documentName === null ? refs : refs.filter((r) => r.name === documentName)
      const previousQuestion = entries.at(-2)
      cacheKey = this.cache.key({
        userId: input.userId,
        documentName,
        question,
        documentsVersion: snapshot.version,
        conversation: previousQuestion !== undefined && isFollowUp(question) ? previousQuestion : null
      })
      const cached = await this.cache.get<AskResult>(cacheKey)
      if (cached !== null) {
        const result = { ...cached, metadata: { ...cached.metadata, cached: true } }
        return await this.#deliver(input, question, result, null, entries)
      }
      retrieval = await this.#retrieval.retrieve(targets, question, previousQuestion)
    } catch (err) {
      this.log.error({ err }, 'answering pipeline failed')
      const result: AskResult = { answer: PIPELINE_ERROR_ANSWER, metadata: { sources_used: 0, confidence: 0, query_type: 'error', cached: false }, sources: [] }
      return await this.#deliver(input, question, result, null, null)
    }

    if (retrieval.chunks.length === 0) {
      const result: AskResult = { answer: NO_INFORMATION_ANSWER, metadata: { sources_used: 0, confidence: 0, query_type: classifyQuery(question), cached: false }, sources: [] }
      return await this.#deliver(input, question, result, null, entries)
    }

    const { context, sources, confidence } = this.#retrieval.context(retrieval, refs, question)
    const metadata: AskMetadata = {
      sources_used: context.length,
      confidence,
      query_type: classifyQuery(question),
      cached: false,
      model: this.#llm === null ? EXTRACTIVE_MODEL : this.options.model
    }

    if (this.#llm === null) {
      const result = { answer: extractiveAnswer(question, context), metadata, sources }
      return await this.#deliver(input, question, result, cacheKey, entries)
    }

    const messages = chatMessages(entries, context, question)
    const maxTokens = wantsLongAnswer(question) ? 2000 : 500
    const { onDelta } = input
    const answer = onDelta === undefined
      ? await this.#llm.complete(messages, maxTokens, input.signal)
      : await this.#llm.stream(messages, maxTokens, input.signal, () => input.onStart?.({ metadata, sources }), onDelta)
    const result = { answer: answer.trim() === '' ? extractiveAnswer(question, context) : answer, metadata, sources }
    return await this.#finish(input, question, result, cacheKey, entries)
  }

  /**
   * Answers that need no upstream call: streamed as one delta when a stream was asked for.
   * `history` is the conversation loaded for this question, or null to leave it unchanged.
   */
  async #deliver (input: AskInput, question: string, result: AskResult, cacheKey: string | null, history: readonly string[] | null): Promise<AskResult> {
    if (input.onDelta !== undefined) {
      input.onStart?.({ metadata: result.metadata, sources: result.sources })
      input.onDelta(result.answer)
    }
    return history === null ? result : await this.#finish(input, question, result, cacheKey, history)
  }

  async #finish (input: AskInput, question: string, result: AskResult, cacheKey: string | null, history: readonly string[]): Promise<AskResult> {
    await Promise.all([
      this.history.append(input.userId, question, result.answer, history),
      // The "no information" answer is not cached: an upload may change it.
      cacheKey === null || result.metadata.cached ? undefined : this.cache.set(cacheKey, result)
    ])
    return result
  }
}

export default fp(async (fastify) => {
  const { groq, ask } = fastify.config
  fastify.decorate('answering', new Answering(fastify.documentsRepository, fastify.chatHistory, fastify.answerCache, {
    groq: fastify.groq,
    model: groq.model,
    timeoutMs: groq.timeoutMs,
    maxRetries: groq.maxRetries,
    calls: groqCalls(fastify.metrics.registry),
    topK: ask.topK,
    contextChars: ask.contextChars
  }, fastify.log))
}, { name: 'answering', dependencies: ['groq', 'documents-repository', 'chat-history', 'answer-cache', 'metrics'] })
