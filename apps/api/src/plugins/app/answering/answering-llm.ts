import type { FastifyBaseLogger } from 'fastify'
import type Groq from 'groq-sdk'
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'groq-sdk'
import { pageTag } from '../../../lib/answer-text.js'
import type { GroqCalls } from '../../../lib/groq-calls.js'
import type { ContextPiece } from './answering-retrieval.js'

// The LLM step of the answering pipeline (answering.ts): one Groq chat completion, whole or streamed,
// bounded in time, its failures turned into AnsweringError.

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

const SYSTEM_PROMPT = [
  "You are DocuMind, an assistant that answers questions about the user's PDF documents.",
  'Answer only from the context given with the question. After every fact, cite its source with the tag',
  'written before that part of the context, exactly as written (a page tag such as [Page N]).',
  'If the context does not contain the answer, say that the documents do not cover it.',
  'Be concise and use Markdown.'
].join(' ')

export type ChatMessage = Groq.Chat.ChatCompletionMessageParam

/** The prompt: instructions, the conversation so far ([q1, a1, q2, a2, ...]), then the tagged context and the question. */
export function chatMessages (history: readonly string[], context: readonly ContextPiece[], question: string): ChatMessage[] {
  const contextText = context.map((c) => `${pageTag(c.page, c.tagDocument)} ${c.text}`).join('\n\n')
  return [
    { role: 'system', content: SYSTEM_PROMPT },
    ...history.map((content, i): ChatMessage => (i % 2 === 0 ? { role: 'user', content } : { role: 'assistant', content })),
    { role: 'user', content: `Context:\n${contextText}\n\nQuestion: ${question}` }
  ]
}

export interface LlmOptions {
  groq: Groq
  model: string
  /** Per-attempt timeout and retries of the Groq client; also bound our own waits. */
  timeoutMs: number
  maxRetries: number
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

export class LlmAnswerer {
  constructor (private readonly options: LlmOptions, private readonly log: FastifyBaseLogger, private readonly calls?: GroqCalls) {}

  /** Upper bound of one non-streamed call: every attempt's timeout plus the SDK's backoff between them. */
  #overallMs (): number {
    return this.options.timeoutMs * (this.options.maxRetries + 1) + 2000 * this.options.maxRetries
  }

  /** The whole answer in one response. Rejects only with AnsweringError. */
  async complete (messages: ChatMessage[], maxTokens: number, signal: AbortSignal | undefined): Promise<string> {
    const guard = deadline(signal, this.#overallMs())
    const start = performance.now()
    try {
      const completion = await this.options.groq.chat.completions.create(
        { model: this.options.model, messages, max_tokens: maxTokens, temperature: 0.2 },
        { signal: guard.signal })
      this.calls?.observe('chat', 'ok', (performance.now() - start) / 1000)
      this.calls?.tokens('chat', completion.usage)
      return completion.choices[0]?.message.content ?? ''
    } catch (err) {
      const failure = this.#upstreamError(err, guard.timedOut(), signal)
      this.calls?.observe('chat', failure.reason, (performance.now() - start) / 1000)
      throw failure
    } finally {
      guard.clear()
    }
  }

  /**
   * The answer piece by piece: `onStart` once the upstream accepted the call (before the first
   * piece, or at the end of an empty answer), `onDelta` per piece. Rejects only with AnsweringError.
   */
  async stream (
    messages: ChatMessage[], maxTokens: number, signal: AbortSignal | undefined, onStart: () => void, onDelta: (text: string) => void
  ): Promise<string> {
    // Until the first chunk: the whole retry budget; then at most timeoutMs of silence between chunks
    // (the SDK's timeout stops at the response headers, a stalled body would otherwise hang).
    const guard = deadline(signal, this.#overallMs())
    let answer = ''
    let started = false
    const start = performance.now()
    try {
      const stream = await this.options.groq.chat.completions.create(
        { model: this.options.model, messages, max_tokens: maxTokens, temperature: 0.2, stream: true },
        { signal: guard.signal })
      for await (const chunk of stream) {
        if (!started) {
          started = true
          onStart()
        }
        guard.reset(this.options.timeoutMs)
        // Groq reports usage in the last chunk, under x_groq.
        const usage = (chunk as { x_groq?: { usage?: { prompt_tokens?: number, completion_tokens?: number } } }).x_groq?.usage
        if (usage !== undefined) this.calls?.tokens('stream', usage)
        const delta = chunk.choices[0]?.delta.content
        if (typeof delta === 'string' && delta !== '') {
          answer += delta
          onDelta(delta)
        }
      }
      if (!started) onStart()
      this.calls?.observe('stream', 'ok', (performance.now() - start) / 1000)
      return answer
    } catch (err) {
      const failure = this.#upstreamError(err, guard.timedOut(), signal)
      this.calls?.observe('stream', failure.reason, (performance.now() - start) / 1000)
      throw failure
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
