import fp from 'fastify-plugin'
import { Counter } from 'prom-client'
import type { FastifyBaseLogger } from 'fastify'
import { throttledWarning } from '../../../lib/throttled-warning.js'
import type { KvStore } from '../kv-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    queryQuota: QueryQuota
  }
}

export interface QuotaState {
  allowed: boolean
  /** Questions counted in the current window. */
  used: number
  remaining: number
  limit: number
  /** Epoch seconds when the window ends; null while no window is open (or the store is down). */
  resetAt: number | null
}

export const QUOTA_WINDOW_MS = 24 * 3600 * 1000

/** The reset time as `hh:mm AM` (12-hour clock, server-local time), the form clients of the Flask backend read. */
export function formatResetTime (epochSeconds: number): string {
  const date = new Date(epochSeconds * 1000)
  const hours = date.getHours()
  const h12 = hours % 12 === 0 ? 12 : hours % 12
  return `${String(h12).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')} ${hours < 12 ? 'AM' : 'PM'}`
}

export function quotaExceededMessage (limit: number, resetAt: number): string {
  return `Query limit reached. Beta users can make up to ${limit} queries per day. Your limit resets at ${formatResetTime(resetAt)}.`
}

/** The 429 body for a question over the daily quota (/ask and /voice-query): message, flag and the quota's state. */
export function quotaExceededBody (quota: QuotaState) {
  const resetAt = quota.resetAt ?? Math.ceil((Date.now() + QUOTA_WINDOW_MS) / 1000)
  const message = quotaExceededMessage(quota.limit, resetAt)
  return {
    success: false as const,
    message,
    limit_reached: true as const,
    limits: { allowed: false as const, remaining: 0, limit: quota.limit, reset_at: resetAt, message }
  }
}

/**
 * Daily questions per user: a fixed 24 h window opened by the first question and not extended
 * by later ones, key `rate:query:<user_id>`, shared by all workers through the KV store.
 *
 * Fails OPEN when the store is unreachable: the quota bounds LLM spending, not security; the per-IP
 * limits still apply. A cache outage should
 * not stop users from asking. The outage is logged.
 */
/** What /metrics counts of the quota (query-quota plugin below). */
export interface QuotaCounters {
  /** Questions refused because the user's daily quota was used up. */
  refused: { inc: () => void }
  /** Questions let through unchecked while the store was unreachable. */
  unenforced: { inc: () => void }
}

export class QueryQuota {
  readonly #warnUnavailable: (err: unknown) => void

  constructor (private readonly kv: KvStore, readonly limit: number, log: FastifyBaseLogger, private readonly counters?: QuotaCounters) {
    this.#warnUnavailable = throttledWarning((err) => log.warn({ err }, 'query quota store unavailable: quota not enforced'))
  }

  #key (userId: string): string {
    return `rate:query:${userId}`
  }

  #state (used: number, ttlMs: number): QuotaState {
    return {
      allowed: used <= this.limit,
      used,
      remaining: Math.max(0, this.limit - used),
      limit: this.limit,
      resetAt: used > 0 && ttlMs > 0 ? Math.ceil((Date.now() + ttlMs) / 1000) : null
    }
  }

  #failOpen (err: unknown): QuotaState {
    this.#warnUnavailable(err)
    return { allowed: true, used: 0, remaining: this.limit, limit: this.limit, resetAt: null }
  }

  /** Counts one question; `allowed` is false once the window's count exceeds the limit. */
  async consume (userId: string): Promise<QuotaState> {
    try {
      const { count, ttlMs } = await this.kv.incr(this.#key(userId), QUOTA_WINDOW_MS)
      const state = this.#state(count, ttlMs)
      if (!state.allowed) this.counters?.refused.inc()
      return state
    } catch (err) {
      this.counters?.unenforced.inc()
      return this.#failOpen(err)
    }
  }

  /** The current state without counting anything (GET /limits). */
  async peek (userId: string): Promise<QuotaState> {
    try {
      const { count, ttlMs } = await this.kv.peek(this.#key(userId))
      return { ...this.#state(count, ttlMs), allowed: count < this.limit }
    } catch (err) {
      return this.#failOpen(err)
    }
  }

  /** Gives back a question that was never answered (no documents, upstream failure). Best effort. */
  async refund (userId: string): Promise<void> {
    try {
      await this.kv.decr(this.#key(userId))
    } catch (err) {
      this.#failOpen(err)
    }
  }
}

export default fp(async (fastify) => {
  const decisions = new Counter({
    name: 'query_quota_decisions_total',
    help: 'Daily question quota checks that refused the question (refused) or could not be made (store_unavailable)',
    labelNames: ['outcome'] as const,
    registers: [fastify.metrics.registry]
  })
  const counters = { refused: decisions.labels('refused'), unenforced: decisions.labels('store_unavailable') }
  fastify.decorate('queryQuota', new QueryQuota(fastify.kvStore, fastify.config.ask.queryLimitPerDay, fastify.log, counters))
}, { name: 'query-quota', dependencies: ['kv-store', 'metrics'] })
