import fp from 'fastify-plugin'
import pg from 'pg'

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

  fastify.decorate('pg', pool)
  fastify.addHook('onClose', async () => { await pool.end() })
}, { name: 'pg' })
