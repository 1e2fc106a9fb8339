import type { Redis } from 'ioredis'
import type pg from 'pg'
import { PostgresFixedWindowCounter, RedisFixedWindowCounter, type FixedWindowCounter } from '../../lib/fixed-window-counter.js'

// Stores for @fastify/rate-limit: its callback interface over the fixed-window counters every PM2
// worker shares (Redis when REDIS_URL is set, otherwise a table in the service's own Postgres).

export interface CounterResult { current: number, ttl: number }
type Callback = (err: Error | null, result?: CounterResult) => void

class RateLimitStore {
  constructor (private readonly counters: FixedWindowCounter) {}

  incr (key: string, cb: Callback, windowMs: number): void {
    this.counters.incr(key, windowMs).then(
      ({ count, ttlMs }) => cb(null, { current: count, ttl: ttlMs }),
      (err: Error) => cb(err)
    )
  }

  /** Keys are built by our own key generator (route and window included), so children share the store. */
  child (): this {
    return this
  }
}

export class RedisRateLimitStore extends RateLimitStore {
  constructor (redis: Redis, prefix: string) {
    super(new RedisFixedWindowCounter(redis, prefix))
  }
}

/** Every limited request counts: the increments of one event-loop turn (all windows of all requests) are one statement. */
export class PostgresRateLimitStore extends RateLimitStore {
  constructor (pool: pg.Pool) {
    super(new PostgresFixedWindowCounter(pool, 'rate_limit_counters'))
  }
}
