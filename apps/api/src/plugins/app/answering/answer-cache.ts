import { createHash } from 'node:crypto'
import fp from 'fastify-plugin'
import { Counter } from 'prom-client'
import type { FastifyBaseLogger } from 'fastify'
import { throttledWarning } from '../../../lib/throttled-warning.js'
import type { KvStore } from '../kv-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    answerCache: AnswerCache
  }
}

export interface AnswerCacheKeyParts {
  userId: string
  documentName: string | null
  question: string
  /**
   * The user's documents version (user_document_versions), bumped in the same transaction as every
   * upload, replacement and deletion: every cached answer of that user becomes unreachable at once and
   * then expires. No invalidation messages between workers, nothing to forget.
   */
  documentsVersion: string
  /** The previous question, for follow-up questions whose answer depends on it; else null. */
  conversation: string | null
}

/**
 * Answers cached per user, document and question (`query:<hash>` of the question, plus the
 * documents fingerprint, so new documents are never answered from the cache). Fails soft: an unreachable store is a cache miss.
 */
export class AnswerCache {
  readonly #warn: (err: unknown) => void

  constructor (
    private readonly kv: KvStore,
    private readonly ttlSeconds: number,
    log: FastifyBaseLogger,
    /** Lookups by result (hit, miss, error), for /metrics. */
    private readonly lookups?: Record<'hit' | 'miss' | 'error', { inc: () => void }>
  ) {
    this.#warn = throttledWarning((err) => log.warn({ err }, 'answer cache unavailable'))
  }

  get enabled (): boolean {
    return this.ttlSeconds > 0
  }

  key (parts: AnswerCacheKeyParts): string {
    const material = JSON.stringify({
      conversation: parts.conversation,
      document_name: parts.documentName,
      documents_version: parts.documentsVersion,
      question: parts.question,
      suffix: `_${parts.userId}`
    })
    return `query:${createHash('sha256').update(material).digest('hex').slice(0, 32)}`
  }

  async get<T> (key: string): Promise<T | null> {
    if (!this.enabled) return null
    try {
      const raw = await this.kv.get(key)
      this.lookups?.[raw === null ? 'miss' : 'hit'].inc()
      return raw === null ? null : JSON.parse(raw) as T
    } catch (err) {
      this.lookups?.error.inc()
      this.#warn(err)
      return null
    }
  }

  async set (key: string, value: unknown): Promise<void> {
    if (!this.enabled) return
    try {
      await this.kv.set(key, JSON.stringify(value), this.ttlSeconds * 1000)
    } catch (err) {
      this.#warn(err)
    }
  }
}

export default fp(async (fastify) => {
  const lookups = new Counter({
    name: 'answer_cache_lookups_total',
    help: 'Answer cache lookups by result (hit, miss, error: the store was unreachable, counted as a miss)',
    labelNames: ['result'] as const,
    registers: [fastify.metrics.registry]
  })
  const byResult = { hit: lookups.labels('hit'), miss: lookups.labels('miss'), error: lookups.labels('error') }
  fastify.decorate('answerCache', new AnswerCache(fastify.kvStore, fastify.config.ask.cacheTtlSeconds, fastify.log, byResult))
}, { name: 'answer-cache', dependencies: ['kv-store', 'metrics'] })
