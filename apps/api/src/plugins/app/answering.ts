import fp from 'fastify-plugin'
import type { FastifyBaseLogger } from 'fastify'
import type Groq from 'groq-sdk'
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'groq-sdk'
import {
  classifyQuery, extractiveAnswer, isFollowUp, isOverviewQuestion, matchCount, pageTag, questionTerms, searchQueries, selectContext,
  SNIPPET_CHARS, termCoverage, wantsLongAnswer, windowAround, type QueryType
} from '../../lib/answer-text.js'
import type { AnswerCache } from './answer-cache.js'
import type { ChatHistory } from './chat-history.js'
import type { DocumentRef, DocumentsRepository, DocumentsSnapshot, RetrievedChunk } from './documents-repository.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The question-answering pipeline, shared by /ask and /voice-query. */
    answering: Answering
  }
}

export interface AskInput {
  userId: string
  question: string
  /** Exact document_name to search; null, undefined or '' searches all of the user's documents. */
  documentName?: string | null
  /** Accepted for callers that pass it on (speech); the answer text does not depend on it. */
  language?: string
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

export interface AskSource {
  document: string
  page: number
  snippet: string
}

export interface AskResult {
  answer: string
  metadata: AskMetadata
  sources: AskSource[]
}

export type AnsweringFailure = 'rate_limited' | 'unavailable' | 'timeout' | 'aborted'

/** The answer could not be produced (upstream failure or client gone). Carries the HTTP status to answer. */
export class AnsweringError extends Error {
  constructor (
    readonly reason: AnsweringFailure,
    /** 499 (client gone) is never seen by anyone; the others are what /ask answers. */
    readonly statusCode: 499 | 502 | 503 | 504,
    message: string,
    readonly retryAfterSeconds?: number
  ) {
    super(message)
    this.name = 'AnsweringError'
  }
}

export function isAnsweringError (err: unknown): err is AnsweringError {
  return err instanceof AnsweringError
}

export const NO_INFORMATION_ANSWER = "I couldn't find relevant information in the documents to answer your question."
export const PIPELINE_ERROR_ANSWER = 'I encountered an error while processing your question. Please try again.'
export const EXTRACTIVE_MODEL = 'extractive'

const SYSTEM_PROMPT = [
  "You are DocuMind, an assistant that answers questions about the user's PDF documents.",
  'Answer only from the context given with the question. After every fact, cite its source with the tag',
  'written before that part of the context, exactly as written (a page tag such as [Page N]).',
  'If the context does not contain the answer, say that the documents do not cover it.',
  'Be concise and use Markdown.'
].join(' ')

export interface AnsweringOptions {
  groq: Groq | null
  model: string
  /** Per-attempt timeout and retries of the Groq client; also bound our own waits. */
  timeoutMs: number
  maxRetries: number
  topK: number
  contextChars: number
}

interface Retrieval {
  chunks: RetrievedChunk[]
  /** How the chunks were found: every word, any word, or the document's opening (overview questions). */
  tier: 'all' | 'any' | 'overview' | 'none'
}

const TIER_WEIGHT = { all: 1, any: 0.75, overview: 0.35, none: 0 } as const

function round2 (value: number): number {
  return Math.round(value * 100) / 100
}

/** An AbortSignal that fires when the parent does or after `ms`, and tells which one it was. */
function deadline (parent: AbortSignal | undefined, ms: number): { signal: AbortSignal, timedOut: () => boolean, reset: (nextMs: number) => void, clear: () => void } {
  const controller = new AbortController()
  let timedOut = false
  const fire = (): void => { timedOut = true; controller.abort() }
  let timer = setTimeout(fire, ms)
  const onParent = (): void => controller.abort()
  parent?.addEventListener('abort', onParent, { once: true })
  if (parent?.aborted === true) controller.abort()
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    reset: (nextMs) => { clearTimeout(timer); timer = setTimeout(fire, nextMs) },
    clear: () => { clearTimeout(timer); parent?.removeEventListener('abort', onParent) }
  }
}

export class Answering {
  constructor (
    private readonly documents: DocumentsRepository,
    private readonly history: ChatHistory,
    private readonly cache: AnswerCache,
    private readonly options: AnsweringOptions,
    private readonly log: FastifyBaseLogger
  ) {}

  get mode (): 'groq' | 'extractive' {
    return this.options.groq === null ? 'extractive' : 'groq'
  }

  /**
   * Answers a question over the user's documents: retrieval, cache, history, then Groq (or the
   * extractive answerer without GROQ_API_KEY). Rejects only with AnsweringError (upstream failure,
   * abort); a broken retrieval gives the contract's soft error answer.
   */
  async ask (input: AskInput): Promise<AskResult> {
    const question = input.question.trim()
    const documentName = input.documentName === undefined || input.documentName === null || input.documentName === '' ? null : input.documentName

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
      retrieval = await this.#retrieve(targets, question, previousQuestion)
    } catch (err) {
      this.log.error({ err }, 'answering pipeline failed')
      const result: AskResult = { answer: PIPELINE_ERROR_ANSWER, metadata: { sources_used: 0, confidence: 0, query_type: 'error', cached: false }, sources: [] }
      return await this.#deliver(input, question, result, null, null)
    }

    if (retrieval.chunks.length === 0) {
      const result: AskResult = { answer: NO_INFORMATION_ANSWER, metadata: { sources_used: 0, confidence: 0, query_type: classifyQuery(question), cached: false }, sources: [] }
      return await this.#deliver(input, question, result, null, entries)
    }

    const terms = questionTerms(question)
    const selected = selectContext(retrieval.chunks, terms, this.options.contextChars, this.options.topK)
    const names = new Map(refs.map((r) => [r.id, r.name]))
    const multiDocument = new Set(selected.map((s) => s.chunk.documentId)).size > 1
    const context = selected.map(({ chunk, text }) => {
      const document = names.get(chunk.documentId) ?? ''
      return { document, page: chunk.page, text, tagDocument: multiDocument ? document : undefined }
    })
    const sources = dedupeSources(context.map((c) => ({ document: c.document, page: c.page, snippet: windowAround(c.text, terms, SNIPPET_CHARS) })))
    const coverage = termCoverage(context.map((c) => c.text), terms)
    const metadata: AskMetadata = {
      sources_used: context.length,
      confidence: round2(Math.min(0.95, TIER_WEIGHT[retrieval.tier] * (0.35 + 0.6 * coverage))),
      query_type: classifyQuery(question),
      cached: false,
      model: this.options.groq === null ? EXTRACTIVE_MODEL : this.options.model
    }

    if (this.options.groq === null) {
      const result = { answer: extractiveAnswer(question, context), metadata, sources }
      return await this.#deliver(input, question, result, cacheKey, entries)
    }

    const contextText = context.map((c) => `${pageTag(c.page, c.tagDocument)} ${c.text}`).join('\n\n')
    const messages: Groq.Chat.ChatCompletionMessageParam[] = [
      { role: 'system', content: SYSTEM_PROMPT },
      ...entries.map((content, i): Groq.Chat.ChatCompletionMessageParam => (i % 2 === 0 ? { role: 'user', content } : { role: 'assistant', content })),
      { role: 'user', content: `Context:\n${contextText}\n\nQuestion: ${question}` }
    ]
    const maxTokens = wantsLongAnswer(question) ? 2000 : 500
    const answer = input.onDelta === undefined
      ? await this.#complete(messages, maxTokens, input.signal)
      : await this.#stream(messages, maxTokens, input, { metadata, sources })
    const result = { answer: answer.trim() === '' ? extractiveAnswer(question, context) : answer, metadata, sources }
    return await this.#finish(input, question, result, cacheKey, entries)
  }

  async #retrieve (targets: readonly DocumentRef[], question: string, previousQuestion: string | undefined): Promise<Retrieval> {
    const ids = targets.map((t) => t.id)
    if (ids.length === 0) return { chunks: [], tier: 'none' }
    // Twice top-k candidates: the context budget may leave some out.
    const limit = this.options.topK * 2
    const queries = searchQueries(question)
    if (queries.all !== '') {
      const all = await this.documents.searchChunks(ids, queries.all, limit)
      if (all.length > 0) return { chunks: all, tier: 'all' }
      const any = await this.documents.searchChunks(ids, queries.any, limit)
      if (any.length > 0) {
        // Any-word matches include chunks sharing one incidental word: keep those matching more than
        // half as many of the question's words as the best chunk.
        const terms = questionTerms(question)
        const counts = any.map((c) => matchCount(c.content, terms))
        const best = Math.max(...counts)
        return { chunks: best === 0 ? any : any.filter((_, i) => counts[i]! * 2 > best), tier: 'any' }
      }
    }
    const overview = async (): Promise<Retrieval> => {
      const leading = await this.documents.leadingChunks(ids, this.options.topK)
      return { chunks: leading, tier: leading.length > 0 ? 'overview' : 'none' }
    }
    if (isOverviewQuestion(question)) return await overview()
    // "When did it happen?" after "Tell me about Krakatoa": the previous question names the subject.
    if (previousQuestion !== undefined && isFollowUp(question)) {
      // This question's words first: the query keeps only the first MAX_SEARCH_TERMS words.
      const followUp = searchQueries(`${question} ${previousQuestion}`)
      const chunks = followUp.any === '' ? [] : await this.documents.searchChunks(ids, followUp.any, limit)
      if (chunks.length > 0) return { chunks, tier: 'any' }
    }
    if (queries.all === '') return await overview()
    return { chunks: [], tier: 'none' }
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
      // The "no information" answer is not cached (as in the original): an upload may change it.
      cacheKey === null || result.metadata.cached ? undefined : this.cache.set(cacheKey, result)
    ])
    return result
  }

  /** Upper bound of one non-streamed call: every attempt's timeout plus the SDK's backoff between them. */
  #overallMs (): number {
    return this.options.timeoutMs * (this.options.maxRetries + 1) + 2000 * this.options.maxRetries
  }

  async #complete (messages: Groq.Chat.ChatCompletionMessageParam[], maxTokens: number, signal: AbortSignal | undefined): Promise<string> {
    const groq = this.options.groq!
    const guard = deadline(signal, this.#overallMs())
    try {
      const completion = await groq.chat.completions.create(
        { model: this.options.model, messages, max_tokens: maxTokens, temperature: 0.2 },
        { signal: guard.signal })
      return completion.choices[0]?.message.content ?? ''
    } catch (err) {
      throw this.#upstreamError(err, guard.timedOut(), signal)
    } finally {
      guard.clear()
    }
  }

  async #stream (
    messages: Groq.Chat.ChatCompletionMessageParam[], maxTokens: number, input: AskInput,
    start: { metadata: AskMetadata, sources: AskSource[] }
  ): Promise<string> {
    const groq = this.options.groq!
    // Until the first chunk: the whole retry budget; then at most timeoutMs of silence between chunks
    // (the SDK's timeout stops at the response headers, a stalled body would otherwise hang).
    const guard = deadline(input.signal, this.#overallMs())
    let answer = ''
    let started = false
    try {
      const stream = await groq.chat.completions.create(
        { model: this.options.model, messages, max_tokens: maxTokens, temperature: 0.2, stream: true },
        { signal: guard.signal })
      for await (const chunk of stream) {
        if (!started) {
          started = true
          input.onStart?.(start)
        }
        guard.reset(this.options.timeoutMs)
        const delta = chunk.choices[0]?.delta.content
        if (typeof delta === 'string' && delta !== '') {
          answer += delta
          input.onDelta?.(delta)
        }
      }
      if (!started) input.onStart?.(start)
      return answer
    } catch (err) {
      throw this.#upstreamError(err, guard.timedOut(), input.signal)
    } finally {
      guard.clear()
    }
  }

  #upstreamError (err: unknown, timedOut: boolean, signal: AbortSignal | undefined): AnsweringError {
    if (signal?.aborted === true) return new AnsweringError('aborted', 499, 'The request was cancelled.')
    if (timedOut || err instanceof APIConnectionTimeoutError) {
      this.log.warn('groq call timed out')
      return new AnsweringError('timeout', 504, 'The AI service took too long to answer. Please try again.')
    }
    if (err instanceof APIUserAbortError) return new AnsweringError('aborted', 499, 'The request was cancelled.')
    if (err instanceof APIError && err.status === 429) {
      const retryAfter = Number(err.headers?.get('retry-after'))
      this.log.warn({ status: 429 }, 'groq rate limited')
      return new AnsweringError('rate_limited', 503, 'The AI service is busy right now. Please try again in a moment.',
        Number.isFinite(retryAfter) && retryAfter > 0 ? Math.ceil(retryAfter) : 5)
    }
    if (err instanceof APIConnectionError || err instanceof APIError) {
      this.log.error({ status: err instanceof APIError ? err.status : undefined, message: err.message }, 'groq call failed')
      return new AnsweringError('unavailable', 502, 'The AI service is unavailable right now. Please try again shortly.')
    }
    this.log.error({ err }, 'groq call failed unexpectedly')
    return new AnsweringError('unavailable', 502, 'The AI service is unavailable right now. Please try again shortly.')
  }
}

function dedupeSources (sources: AskSource[]): AskSource[] {
  const seen = new Set<string>()
  return sources.filter((s) => {
    const key = `${s.document}\u0000${s.page}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

export default fp(async (fastify) => {
  const { groq, ask } = fastify.config
  fastify.decorate('answering', new Answering(fastify.documents, fastify.chatHistory, fastify.answerCache, {
    groq: fastify.groq,
    model: groq.model,
    timeoutMs: groq.timeoutMs,
    maxRetries: groq.maxRetries,
    topK: ask.topK,
    contextChars: ask.contextChars
  }, fastify.log))
}, { name: 'answering', dependencies: ['groq', 'documents-repository', 'chat-history', 'answer-cache'] })
