import type { Redis } from 'ioredis'
import type pg from 'pg'
import { PostgresFixedWindowCounter, RedisFixedWindowCounter, type FixedWindowCounter } from '../../lib/fixed-window-counter.js'

// Stores for @fastify/rate-limit: its callback interface over the fixed-window counters every PM2
// worker shares (Redis when REDIS_URL is set, otherwise a table in the service's own Postgres).

/** Timing and failures of the store's calls, for /metrics (plugins/external/rate-limit.ts). */
export interface StoreCallObserver {
  duration: { observe: (seconds: number) => void }
  errors: { inc: () => void }
}

export interface CounterResult { current: number, ttl: number }
type Callback = (err: Error | null, result?: CounterResult) => void

class RateLimitStore {
  constructor (private readonly counters: FixedWindowCounter, private readonly observer: StoreCallObserver | undefined) {}

  incr (key: string, cb: Callback, windowMs: number): void {
    const start = performance.now()
    this.counters.incr(key, windowMs).then(
      ({ count, ttlMs }) => {
        this.observer?.duration.observe((performance.now() - start) / 1000)
        cb(null, { current: count, ttl: ttlMs })
      },
      (err: Error) => {
        this.observer?.duration.observe((performance.now() - start) / 1000)
        this.observer?.errors.inc()
        cb(err)
      }
    )
  }

  /** Keys are built by our own key generator (route and window included), so children share the store. */
  child (): this {
    return this
  }
}

export class RedisRateLimitStore extends RateLimitStore {
  constructor (redis: Redis, prefix: string, observer?: StoreCallObserver) {
    super(new RedisFixedWindowCounter(redis, prefix), observer)
  }
}

/** Every limited request counts: the increments of one event-loop turn (all windows of all requests) are one statement. */
export class PostgresRateLimitStore extends RateLimitStore {
  constructor (pool: pg.Pool, observer?: StoreCallObserver) {
    super(new PostgresFixedWindowCounter(pool, 'rate_limit_counters'), observer)
  }
}
