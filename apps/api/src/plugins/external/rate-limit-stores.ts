import type { Redis } from 'ioredis'
import type pg from 'pg'
import { counterBatcher } from '../../lib/tick-batcher.js'

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

/** Adds n to each counter, restarting the window of an expired one. */
const ADD_SQL = `
INSERT INTO rate_limit_counters AS c (key, count, expires_at)
SELECT k, n, clock_timestamp() + w * interval '1 millisecond'
FROM unnest($1::text[], $2::int[], $3::float8[]) WITH ORDINALITY AS u(k, n, w, o) ORDER BY o
ON CONFLICT (key) DO UPDATE SET
  count = CASE WHEN c.expires_at <= clock_timestamp() THEN EXCLUDED.count ELSE c.count + EXCLUDED.count END,
  expires_at = CASE WHEN c.expires_at <= clock_timestamp() THEN EXCLUDED.expires_at ELSE c.expires_at END
RETURNING key, count, greatest(0, ceil(extract(epoch FROM (expires_at - clock_timestamp())) * 1000))::float8 AS ttl`

export class PostgresRateLimitStore {
  // Every limited request counts here: the increments of one event-loop turn (all windows of all
  // requests) are one statement. The upsert's row locks keep concurrent workers exact.
  readonly #counters = counterBatcher(async (keys, adds, windowsMs) => {
    const { rows } = await this.pool.query<{ key: string, count: number, ttl: number }>({ name: 'rate-limit-add', text: ADD_SQL, values: [keys, adds, windowsMs] })
    return rows.map((r) => ({ key: r.key, count: r.count, ttlMs: r.ttl }))
  })

  constructor (private readonly pool: pg.Pool) {}

  incr (key: string, cb: Callback, windowMs: number): void {
    this.#counters.add({ key, windowMs }).then(
      ({ count, ttlMs }) => cb(null, { current: count, ttl: ttlMs }),
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
