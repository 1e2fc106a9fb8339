import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import type pg from 'pg'
import { counterBatcher, type CounterValue } from './tick-batcher.js'

/**
 * Fixed-window counters shared by every PM2 worker: the per-IP rate limits (rate-limit-stores.ts)
 * and the daily query quota (kv-store.ts). The window starts with the first increment and is not
 * extended by later ones; an expired window restarts at 1. Redis when REDIS_URL is set, otherwise a
 * table in the service's own PostgreSQL.
 */
export interface FixedWindowCounter {
  /** Adds one; the count and the time left in its window. */
  incr: (key: string, windowMs: number) => Promise<CounterValue>
  /** Takes one back (never below 0), keeping the window. */
  decr: (key: string) => Promise<void>
  /** Reads a counter without changing it; { count: 0, ttlMs: 0 } when there is none. */
  peek: (key: string) => Promise<CounterValue>
}

/** INCR with a fixed-window expiry set by the first hit; returns {count, ttl ms}. */
const INCR_LUA = `
local current = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if current == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}
`

const DECR_LUA = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current > 0 then redis.call('DECR', KEYS[1]) end
return 0
`

declare module 'ioredis' {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- must repeat ioredis' type parameter to merge
  interface RedisCommander<Context> {
    documindWindowIncr: (key: string, windowMs: number) => Promise<[number, number]>
    documindWindowDecr: (key: string) => Promise<number>
  }
}

/** Counters under `prefix + key`. */
export class RedisFixedWindowCounter implements FixedWindowCounter {
  constructor (private readonly redis: Redis, private readonly prefix: string) {
    // The client is shared by every store: the scripts are defined once.
    if (typeof (redis as { documindWindowIncr?: unknown }).documindWindowIncr !== 'function') {
      redis.defineCommand('documindWindowIncr', { numberOfKeys: 1, lua: INCR_LUA })
      redis.defineCommand('documindWindowDecr', { numberOfKeys: 1, lua: DECR_LUA })
    }
  }

  async incr (key: string, windowMs: number): Promise<CounterValue> {
    const [count, ttlMs] = await this.redis.documindWindowIncr(this.prefix + key, windowMs)
    return { count, ttlMs }
  }

  async decr (key: string): Promise<void> {
    await this.redis.documindWindowDecr(this.prefix + key)
  }

  async peek (key: string): Promise<CounterValue> {
    const results = await this.redis.multi().get(this.prefix + key).pttl(this.prefix + key).exec()
    if (results === null) throw new Error('redis transaction aborted')
    const [[getErr, value], [ttlErr, ttl]] = results as [[Error | null, string | null], [Error | null, number]]
    if (getErr !== null) throw getErr
    if (ttlErr !== null) throw ttlErr
    if (value === null) return { count: 0, ttlMs: 0 }
    return { count: Number(value), ttlMs: Math.max(0, ttl) }
  }
}

/**
 * The PostgreSQL tables holding counters, `(key text PRIMARY KEY, <column>, expires_at timestamptz)`:
 * `rate_limit_counters` counts in an integer column, `kv_store` in its text `value` column beside the
 * other shared state. `statement` names the prepared increment.
 */
const COUNTER_TABLES = {
  rate_limit_counters: { column: 'count', text: false, statement: 'rate-limit-add' },
  kv_store: { column: 'value', text: true, statement: 'kv-add' }
} as const

export type CounterTable = keyof typeof COUNTER_TABLES

const TTL_MS = 'greatest(0, ceil(extract(epoch FROM (expires_at - clock_timestamp())) * 1000))'

/** Adds n to each counter, restarting the window of an expired one. */
function addSql (table: CounterTable): string {
  const { column, text } = COUNTER_TABLES[table]
  const toColumn = text ? '::text' : ''
  const toNumber = text ? '::bigint' : ''
  return `
INSERT INTO ${table} AS c (key, ${column}, expires_at)
SELECT u.k, u.n${toColumn}, clock_timestamp() + u.w * interval '1 millisecond'
FROM unnest($1::text[], $2::int[], $3::float8[]) WITH ORDINALITY AS u(k, n, w, o) ORDER BY u.o
ON CONFLICT (key) DO UPDATE SET
  ${column} = CASE WHEN c.expires_at <= clock_timestamp() THEN EXCLUDED.${column} ELSE (c.${column}${toNumber} + EXCLUDED.${column}${toNumber})${toColumn} END,
  expires_at = CASE WHEN c.expires_at <= clock_timestamp() THEN EXCLUDED.expires_at ELSE c.expires_at END
RETURNING key, ${column}::float8 AS count, ${TTL_MS}::float8 AS ttl`
}

export class PostgresFixedWindowCounter implements FixedWindowCounter {
  // Every limited request and every question counts: the increments of one event-loop turn are one
  // statement. The upsert's row locks keep concurrent workers exact.
  readonly #counters = counterBatcher(async (keys, adds, windowsMs) => {
    const { rows } = await this.pool.query<{ key: string, count: number, ttl: number }>({ name: COUNTER_TABLES[this.table].statement, text: this.#addSql, values: [keys, adds, windowsMs] })
    return rows.map((r) => ({ key: r.key, count: r.count, ttlMs: r.ttl }))
  })

  readonly #addSql: string

  constructor (private readonly pool: pg.Pool, private readonly table: CounterTable) {
    this.#addSql = addSql(table)
  }

  async incr (key: string, windowMs: number): Promise<CounterValue> {
    return await this.#counters.add({ key, windowMs })
  }

  async decr (key: string): Promise<void> {
    const { column, text } = COUNTER_TABLES[this.table]
    const value = text ? `greatest(${column}::bigint - 1, 0)::text` : `greatest(${column} - 1, 0)`
    await this.pool.query(`UPDATE ${this.table} SET ${column} = ${value} WHERE key = $1 AND expires_at > clock_timestamp()`, [key])
  }

  async peek (key: string): Promise<CounterValue> {
    const { rows } = await this.pool.query<{ count: string, ttl: string }>(
      `SELECT ${COUNTER_TABLES[this.table].column} AS count, ${TTL_MS}::bigint AS ttl FROM ${this.table} WHERE key = $1 AND expires_at > clock_timestamp()`, [key])
    const row = rows[0]
    return row === undefined ? { count: 0, ttlMs: 0 } : { count: Number(row.count), ttlMs: Number(row.ttl) }
  }
}

/**
 * Deletes a table's expired rows every minute while the app runs. Expired rows are already invisible
 * to reads; this only reclaims their space (cheap thanks to the table's expires_at index).
 */
export function sweepExpiredRows (fastify: FastifyInstance, table: CounterTable, what: string): void {
  const timer = setInterval(() => {
    fastify.pg.query(`DELETE FROM ${table} WHERE expires_at < clock_timestamp()`)
      .catch((err: unknown) => fastify.log.warn({ err }, `${what} sweep failed`))
  }, 60_000)
  timer.unref()
  fastify.addHook('onClose', async () => clearInterval(timer))
}
