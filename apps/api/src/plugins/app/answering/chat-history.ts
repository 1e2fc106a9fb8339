import fp from 'fastify-plugin'
import type { FastifyBaseLogger } from 'fastify'
import { throttledWarning } from '../../../lib/throttled-warning.js'
import type { KvStore } from '../kv-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    chatHistory: ChatHistory
  }
}

/** Entries kept per user: the prompt uses the last 6 (three question/answer pairs). */
export const HISTORY_ENTRIES = 6
export const HISTORY_TTL_MS = 24 * 3600 * 1000

/**
 * `conversation:<user_id>`: a JSON array `[q1, a1, q2, a2, ...]`, TTL renewed on every
 * save. Trimmed to the entries the prompt can use (older entries are never read).
 * Reads and writes fail soft: an outage costs the conversation context, never the answer.
 */
export class ChatHistory {
  readonly #warn: (err: unknown, what: 'read' | 'write') => void

  constructor (private readonly kv: KvStore, log: FastifyBaseLogger) {
    this.#warn = throttledWarning((err, what) => log.warn({ err }, `chat history ${what} failed`))
  }

  #key (userId: string): string {
    return `conversation:${userId}`
  }

  async load (userId: string): Promise<string[]> {
    try {
      const raw = await this.kv.get(this.#key(userId))
      if (raw === null) return []
      const parsed: unknown = JSON.parse(raw)
      return Array.isArray(parsed) ? parsed.filter((e): e is string => typeof e === 'string').slice(-HISTORY_ENTRIES) : []
    } catch (err) {
      this.#warn(err, 'read')
      return []
    }
  }

  /**
   * `loaded` is the conversation as read for this question (saves reading it again). It is a
   * read-then-write: two questions of one user answered at the same moment keep only one of the pairs.
   */
  async append (userId: string, question: string, answer: string, loaded?: readonly string[]): Promise<void> {
    try {
      const entries = [...loaded ?? await this.load(userId), question, answer].slice(-HISTORY_ENTRIES)
      await this.kv.set(this.#key(userId), JSON.stringify(entries), HISTORY_TTL_MS)
    } catch (err) {
      this.#warn(err, 'write')
    }
  }

  /** Rejects when the store is down: POST /clear must not claim success it did not have. */
  async clear (userId: string): Promise<void> {
    await this.kv.del(this.#key(userId))
  }
}

export default fp(async (fastify) => {
  fastify.decorate('chatHistory', new ChatHistory(fastify.kvStore, fastify.log))
}, { name: 'chat-history', dependencies: ['kv-store'] })
