import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import type pg from 'pg'
import { compareKeys, counterBatcher, TickBatcher } from '../../lib/tick-batcher.js'
import { FIXED_WINDOW_LUA } from '../external/rate-limit-stores.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Short-lived shared state (quota counters, chat history, answer cache): Redis, else Postgres. */
    kv: KvStore
  }
}

export interface Counter {
  count: number
  /** Milliseconds until the window ends; 0 when there is no counter. */
  ttlMs: number
}

/**
 * Both implementations are shared by every PM2 worker. Methods reject when the store is unreachable;
 * callers decide what that means (see query-quota.ts, chat-history.ts, answer-cache.ts).
 */
export interface KvStore {
  readonly kind: 'redis' | 'postgres'
  get: (key: string) => Promise<string | null>
  set: (key: string, value: string, ttlMs: number) => Promise<void>
  del: (key: string) => Promise<void>
  /** Fixed-window counter: adds one; the window (ttl) starts with the first increment and is not extended. */
  incr: (key: string, windowMs: number) => Promise<Counter>
  /** Takes one back (never below 0), keeping the window. */
  decr: (key: string) => Promise<void>
  /** Reads a counter without changing it. */
  peek: (key: string) => Promise<Counter>
}

const DECR_LUA = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current > 0 then redis.call('DECR', KEYS[1]) end
return 0
`

declare module 'ioredis' {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- must repeat ioredis' type parameter to merge
  interface RedisCommander<Context> {
    documindKvIncr: (key: string, windowMs: number) => Promise<[number, number]>
    documindKvDecr: (key: string) => Promise<number>
  }
}

export class RedisKvStore implements KvStore {
  readonly kind = 'redis'

  constructor (private readonly redis: Redis, private readonly prefix: string) {
    // The client is shared with other plugins: define our scripts once.
    if (typeof (redis as { documindKvIncr?: unknown }).documindKvIncr !== 'function') {
      redis.defineCommand('documindKvIncr', { numberOfKeys: 1, lua: FIXED_WINDOW_LUA })
      redis.defineCommand('documindKvDecr', { numberOfKeys: 1, lua: DECR_LUA })
    }
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

  async incr (key: string, windowMs: number): Promise<Counter> {
    const [count, ttlMs] = await this.redis.documindKvIncr(this.prefix + key, windowMs)
    return { count, ttlMs }
  }

  async decr (key: string): Promise<void> {
    await this.redis.documindKvDecr(this.prefix + key)
  }

  async peek (key: string): Promise<Counter> {
    const results = await this.redis.multi().get(this.prefix + key).pttl(this.prefix + key).exec()
    if (results === null) throw new Error('redis transaction aborted')
    const [[getErr, value], [ttlErr, ttl]] = results as [[Error | null, string | null], [Error | null, number]]
    if (getErr !== null) throw getErr
    if (ttlErr !== null) throw ttlErr
    if (value === null) return { count: 0, ttlMs: 0 }
    return { count: Number(value), ttlMs: Math.max(0, ttl) }
  }
}

/** Adds n to each counter, restarting the window of an expired one. */
const PG_ADD_SQL = `
INSERT INTO kv_store AS k (key, value, expires_at)
SELECT u.k, u.n::text, clock_timestamp() + u.w * interval '1 millisecond'
FROM unnest($1::text[], $2::int[], $3::float8[]) WITH ORDINALITY AS u(k, n, w, o) ORDER BY u.o
ON CONFLICT (key) DO UPDATE SET
  value = CASE WHEN k.expires_at <= clock_timestamp() THEN EXCLUDED.value ELSE (k.value::bigint + EXCLUDED.value::bigint)::text END,
  expires_at = CASE WHEN k.expires_at <= clock_timestamp() THEN EXCLUDED.expires_at ELSE k.expires_at END
RETURNING key, value::float8 AS count, greatest(0, ceil(extract(epoch FROM (expires_at - clock_timestamp())) * 1000))::float8 AS ttl`

export class PostgresKvStore implements KvStore {
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

  // Quota counters of one turn: one statement (the upsert's row locks keep concurrent workers exact).
  readonly #counters = counterBatcher(async (keys, adds, windowsMs) => {
    const { rows } = await this.pool.query<{ key: string, count: number, ttl: number }>({ name: 'kv-add', text: PG_ADD_SQL, values: [keys, adds, windowsMs] })
    return rows.map((r) => ({ key: r.key, count: r.count, ttlMs: r.ttl }))
  })

  constructor (private readonly pool: pg.Pool) {}

  async get (key: string): Promise<string | null> {
    return await this.#gets.add(key)
  }

  async set (key: string, value: string, ttlMs: number): Promise<void> {
    await this.#sets.add({ key, value, ttlMs })
  }

  async del (key: string): Promise<void> {
    await this.pool.query('DELETE FROM kv_store WHERE key = $1', [key])
  }

  async incr (key: string, windowMs: number): Promise<Counter> {
    return await this.#counters.add({ key, windowMs })
  }

  async decr (key: string): Promise<void> {
    await this.pool.query(
      `UPDATE kv_store SET value = greatest(value::bigint - 1, 0)::text
       WHERE key = $1 AND expires_at > clock_timestamp()`, [key])
  }

  async peek (key: string): Promise<Counter> {
    const { rows } = await this.pool.query<{ value: string, ttl: string }>(
      `SELECT value, greatest(0, ceil(extract(epoch FROM (expires_at - clock_timestamp())) * 1000))::bigint AS ttl
       FROM kv_store WHERE key = $1 AND expires_at > clock_timestamp()`, [key])
    const row = rows[0]
    return row === undefined ? { count: 0, ttlMs: 0 } : { count: Number(row.value), ttlMs: Number(row.ttl) }
  }

  /** Expired rows are invisible to reads; this only reclaims their space. */
  async sweep (): Promise<void> {
    await this.pool.query('DELETE FROM kv_store WHERE expires_at < clock_timestamp()')
  }
}

export default fp(async (fastify) => {
  if (fastify.redis !== null) {
    fastify.decorate('kv', new RedisKvStore(fastify.redis, fastify.config.redisKeyPrefix))
    return
  }
  const store = new PostgresKvStore(fastify.pg)
  fastify.decorate('kv', store)
  const timer = setInterval(() => {
    store.sweep().catch((err: unknown) => fastify.log.warn({ err }, 'kv store sweep failed'))
  }, 60_000)
  timer.unref()
  fastify.addHook('onClose', async () => clearInterval(timer))
}, { name: 'kv-store', dependencies: ['postgres', 'redis'] })
