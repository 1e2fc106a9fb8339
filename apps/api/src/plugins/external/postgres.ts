import fp from 'fastify-plugin'
import pg from 'pg'
import { migrate } from '../../db/migrate.js'

declare module 'fastify' {
  interface FastifyInstance {
    pg: pg.Pool
  }
}

export interface PostgresPluginOptions {
  connectionString: string
  max: number
  migrate: boolean
}

/** One pool per worker process; closed with the app. */
export default fp<PostgresPluginOptions>(async (fastify, opts) => {
  if (opts.migrate) await migrate(opts.connectionString, { info: (m) => fastify.log.info(m) })

  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.max,
    // Fail fast while the database is unreachable instead of queueing requests behind a dead server.
    connectionTimeoutMillis: 2000,
    idleTimeoutMillis: 30_000,
    query_timeout: 15_000,
    application_name: 'documind-api'
  })
  // An idle client losing its connection (database restart) must not crash the worker.
  pool.on('error', (err: Error & { code?: string }) => {
    fastify.log.warn({ code: err.code, message: err.message }, 'idle postgres client lost its connection')
  })

  fastify.decorate('pg', pool)
  fastify.addHook('onClose', async () => { await pool.end() })
}, { name: 'postgres' })
