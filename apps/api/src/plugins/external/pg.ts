import fp from 'fastify-plugin'
import pg from 'pg'
import { Counter, Gauge, Histogram } from 'prom-client'

declare module 'fastify' {
  interface FastifyInstance {
    pg: pg.Pool
  }
}

// Postgres refusing the request's data: NUL bytes or invalid text (22021, 22P05), a value too long or
// out of range for its column (22001, 22003), bad text for a typed column (22P02), a key too large to
// index (54000). The request is at fault: a 400, not a 500.
const INVALID_INPUT_CODES = new Set(['22001', '22003', '22021', '22P02', '22P05', '54000'])

export function isInvalidInputError (err: unknown): boolean {
  return err instanceof Error && INVALID_INPUT_CODES.has(String((err as { code?: unknown }).code))
}

/** A write for a user that no longer exists (a deleted account's token is still valid until it expires). */
export function isMissingUserError (err: unknown): boolean {
  if (!(err instanceof Error)) return false
  const { code, constraint } = err as { code?: unknown, constraint?: unknown }
  return code === '23503' && typeof constraint === 'string' && constraint.endsWith('_user_id_fkey')
}

export interface PostgresPluginOptions {
  connectionString: string
  max: number
  migrate: boolean
}

/**
 * One pool per worker process; closed with the app. The statements every request runs are named
 * (`{ name, text, values }`): each connection prepares them once, and PostgreSQL then skips parsing and
 * planning them (the document snapshot went from ~160 to ~35 µs of server CPU). Behind PgBouncer in
 * transaction mode that needs PgBouncer 1.21+ with `max_prepared_statements` set.
 */
export default fp<PostgresPluginOptions>(async (fastify, opts) => {
  if (opts.migrate) {
    // Imported only here: PM2 workers do not migrate (the launcher does), and node-pg-migrate costs each one memory.
    const { migrate } = await import('../../db/migrate.js')
    await migrate(opts.connectionString, { info: (m) => fastify.log.info(m) })
  }

  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.max,
    // Fail fast while the database is unreachable instead of queueing requests behind a dead server.
    // (It also bounds the wait for a free pooled connection, which can take a while under CPU saturation.)
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    query_timeout: 15_000,
    application_name: 'documind-api'
  })
  // An idle client losing its connection (database restart) must not crash the worker.
  pool.on('error', (err: Error & { code?: string }) => {
    fastify.log.warn({ code: err.code, message: err.message }, 'idle postgres client lost its connection')
  })
  // Nor may a client checked out with pool.connect() (transactions): the pool removes its own listener
  // while the client is out, so a connection lost mid-transaction was an uncaught 'error' event that
  // killed the process. The pending query still rejects (and the transaction is rolled back).
  pool.on('connect', (client) => {
    client.on('error', (err: Error & { code?: string }) => {
      fastify.log.warn({ code: err.code, message: err.message }, 'postgres connection lost')
    })
  })

  instrument(fastify, pool)
  fastify.decorate('pg', pool)
  fastify.addHook('onClose', async () => { await pool.end() })
}, { name: 'pg', dependencies: ['metrics'] })

/**
 * Pool occupancy (read at scrape time) and the duration of every pool.query by statement name: the
 * statements requests run are named, so the label set is small and fixed; anything else is 'unnamed'.
 * Queries on a checked-out client (transactions) are not timed.
 */
function instrument (fastify: import('fastify').FastifyInstance, pool: pg.Pool): void {
  const registers = [fastify.metrics.registry]
  const occupancy = [
    new Gauge({ name: 'pg_pool_connections', help: 'Connections of this worker\'s PostgreSQL pool', registers: [], collect () { this.set(pool.totalCount) } }),
    new Gauge({ name: 'pg_pool_idle_connections', help: 'Idle connections of the PostgreSQL pool', registers: [], collect () { this.set(pool.idleCount) } }),
    new Gauge({ name: 'pg_pool_waiting_clients', help: 'Queries waiting for a free PostgreSQL connection', registers: [], collect () { this.set(pool.waitingCount) } })
  ]
  for (const gauge of occupancy) fastify.metrics.registry.registerMetric(gauge)
  const duration = new Histogram({
    name: 'pg_query_duration_seconds',
    help: 'Duration of PostgreSQL queries (pool wait included) by prepared statement name',
    labelNames: ['statement'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 15],
    registers
  })
  const errors = new Counter({ name: 'pg_query_errors_total', help: 'Failed PostgreSQL queries by prepared statement name', labelNames: ['statement'] as const, registers })

  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown
  pool.query = function timedQuery (...args: unknown[]): unknown {
    const config = args[0] as { name?: unknown } | string
    const statement = typeof config === 'object' && typeof config.name === 'string' ? config.name : 'unnamed'
    const start = performance.now()
    const result = query(...args)
    if (result instanceof Promise) {
      result.then(
        () => { duration.observe({ statement }, (performance.now() - start) / 1000) },
        () => {
          duration.observe({ statement }, (performance.now() - start) / 1000)
          errors.inc({ statement })
        }
      )
    }
    return result
  } as typeof pool.query
}
