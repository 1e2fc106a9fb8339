import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import type pg from 'pg'
import { PostgresFixedWindowCounter, RedisFixedWindowCounter, sweepExpiredRows, type FixedWindowCounter } from '../../lib/fixed-window-counter.js'
import { compareKeys, TickBatcher, type CounterValue } from '../../lib/tick-batcher.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Short-lived shared state (quota counters, chat history, answer cache): Redis, else Postgres. */
    kvStore: KvStore
  }
}

/**
 * Both implementations are shared by every PM2 worker. Methods reject when the store is unreachable;
 * callers decide what that means (see query-quota.ts, chat-history.ts, answer-cache.ts).
 */
export interface KvStore extends FixedWindowCounter {
  readonly kind: 'redis' | 'postgres'
  get: (key: string) => Promise<string | null>
  set: (key: string, value: string, ttlMs: number) => Promise<void>
  del: (key: string) => Promise<void>
}

/** The counters (the query quota) are the rate limits' fixed-window counters, on this store. */
abstract class CountersOf implements FixedWindowCounter {
  constructor (private readonly counters: FixedWindowCounter) {}

  async incr (key: string, windowMs: number): Promise<CounterValue> {
    return await this.counters.incr(key, windowMs)
  }

  async decr (key: string): Promise<void> {
    await this.counters.decr(key)
  }

  async peek (key: string): Promise<CounterValue> {
    return await this.counters.peek(key)
  }
}

export class RedisKvStore extends CountersOf implements KvStore {
  readonly kind = 'redis'

  constructor (private readonly redis: Redis, private readonly prefix: string) {
    super(new RedisFixedWindowCounter(redis, prefix))
  }

  async get (key: string): Promise<string | null> {
    return await this.redis.get(this.prefix + key)
  }

  async set (key: string, value: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.prefix + key, value, 'PX', Math.max(1, Math.round(ttlMs)))
  }

  async del (key: string): Promise<void> {
    await this.redis.del(this.prefix + key)
  }
}

export class PostgresKvStore extends CountersOf implements KvStore {
  readonly kind = 'postgres'

  // Reads and writes made in one turn of the event loop (one /ask reads its conversation and cached
  // answer, then writes both; concurrent requests do the same) share one statement each.
  readonly #gets = new TickBatcher<string, string | null>(async (keys) => {
    const { rows } = await this.pool.query<{ key: string, value: string }>({
      name: 'kv-get',
      text: 'SELECT key, value FROM kv_store WHERE key = ANY($1::text[]) AND expires_at > clock_timestamp()',
      values: [[...new Set(keys)]]
    })
    const values = new Map(rows.map((r) => [r.key, r.value]))
    return keys.map((key) => values.get(key) ?? null)
  })

  readonly #sets = new TickBatcher<{ key: string, value: string, ttlMs: number }, void>(async (writes) => {
    // One row per key, the last write winning as if they ran in turn; rows are locked in key order, so
    // batches of two workers touching the same keys cannot deadlock.
    const last = new Map(writes.map((w) => [w.key, w]))
    const rows = [...last.values()].sort((a, b) => compareKeys(a.key, b.key))
    await this.pool.query({
      name: 'kv-set',
      text: `INSERT INTO kv_store (key, value, expires_at)
       SELECT k, v, clock_timestamp() + t * interval '1 millisecond'
       FROM unnest($1::text[], $2::text[], $3::float8[]) WITH ORDINALITY AS u(k, v, t, n) ORDER BY n
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
      values: [rows.map((r) => r.key), rows.map((r) => r.value), rows.map((r) => Math.max(1, Math.round(r.ttlMs)))]
    })
    return writes.map(() => undefined)
  })

  constructor (private readonly pool: pg.Pool) {
    super(new PostgresFixedWindowCounter(pool, 'kv_store'))
  }

  async get (key: string): Promise<string | null> {
    return await this.#gets.add(key)
  }

  async set (key: string, value: string, ttlMs: number): Promise<void> {
    await this.#sets.add({ key, value, ttlMs })
  }

  async del (key: string): Promise<void> {
    await this.pool.query('DELETE FROM kv_store WHERE key = $1', [key])
  }
}

export default fp(async (fastify) => {
  if (fastify.redis !== null) {
    fastify.decorate('kvStore', new RedisKvStore(fastify.redis, fastify.config.redisKeyPrefix))
    return
  }
  fastify.decorate('kvStore', new PostgresKvStore(fastify.pg))
  sweepExpiredRows(fastify, 'kv_store', 'kv store')
}, { name: 'kv-store', dependencies: ['pg', 'redis'] })
