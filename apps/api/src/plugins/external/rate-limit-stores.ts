import type { Redis } from 'ioredis'
import type pg from 'pg'

// Stores for @fastify/rate-limit. Both are fixed-window counters shared by every PM2 worker:
// Redis when REDIS_URL is set, otherwise a table in the service's own Postgres.

export interface CounterResult { current: number, ttl: number }
type Callback = (err: Error | null, result?: CounterResult) => void

/** INCR with a fixed-window expiry set by the first hit; returns {count, ttl ms}. Also used by the KV store. */
export const FIXED_WINDOW_LUA = `
local current = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if current == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}
`

declare module 'ioredis' {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- must repeat ioredis' type parameter to merge
  interface RedisCommander<Context> {
    documindRateLimit: (key: string, windowMs: number) => Promise<[number, number]>
  }
}

export class RedisRateLimitStore {
  constructor (private readonly redis: Redis, private readonly prefix: string) {
    if (typeof (redis as { documindRateLimit?: unknown }).documindRateLimit !== 'function') {
      redis.defineCommand('documindRateLimit', { numberOfKeys: 1, lua: FIXED_WINDOW_LUA })
    }
  }

  incr (key: string, cb: Callback, windowMs: number): void {
    this.redis.documindRateLimit(this.prefix + key, windowMs).then(
      ([current, ttl]) => cb(null, { current, ttl }),
      (err: Error) => cb(err)
    )
  }

  /** Keys are built by our own key generator (route and window included), so children share the store. */
  child (): this {
    return this
  }
}

const UPSERT_SQL = `
INSERT INTO rate_limit_counters AS c (key, count, expires_at)
VALUES ($1, 1, clock_timestamp() + $2 * interval '1 millisecond')
ON CONFLICT (key) DO UPDATE SET
  count = CASE WHEN c.expires_at <= clock_timestamp() THEN 1 ELSE c.count + 1 END,
  expires_at = CASE WHEN c.expires_at <= clock_timestamp() THEN EXCLUDED.expires_at ELSE c.expires_at END
RETURNING count, greatest(0, ceil(extract(epoch FROM (expires_at - clock_timestamp())) * 1000))::bigint AS ttl`

export class PostgresRateLimitStore {
  constructor (private readonly pool: pg.Pool) {}

  incr (key: string, cb: Callback, windowMs: number): void {
    // The upsert takes a row lock, so concurrent workers count exactly.
    this.pool.query<{ count: number, ttl: string }>(UPSERT_SQL, [key, windowMs]).then(
      (res) => {
        const row = res.rows[0]!
        cb(null, { current: row.count, ttl: Number(row.ttl) })
      },
      (err: Error) => cb(err)
    )
  }

  child (): this {
    return this
  }

  /** Drops expired windows; cheap thanks to the expires_at index. */
  async sweep (): Promise<void> {
    await this.pool.query('DELETE FROM rate_limit_counters WHERE expires_at < clock_timestamp()')
  }
}
