import fastifyRateLimit from '@fastify/rate-limit'
import fp from 'fastify-plugin'
import { Counter, Histogram } from 'prom-client'
import { sweepExpiredRows } from '../../lib/fixed-window-counter.js'
import { PostgresRateLimitStore, RedisRateLimitStore } from './rate-limit-stores.js'

export interface RateLimitPluginOptions {
  keyPrefix: string
}

/**
 * @fastify/rate-limit with a store every worker shares. Limits are attached per route by
 * plugins/app/limits/rate-limit-policy.ts, so the plugin itself is not global.
 */
export default fp<RateLimitPluginOptions>(async (fastify, opts) => {
  const registers = [fastify.metrics.registry]
  const duration = new Histogram({
    name: 'rate_limit_store_duration_seconds',
    help: 'Duration of rate-limit store calls (one increment per limit) by store',
    labelNames: ['store'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers
  })
  const errors = new Counter({ name: 'rate_limit_store_errors_total', help: 'Failed rate-limit store calls by store', labelNames: ['store'] as const, registers })
  const observer = (name: 'redis' | 'postgres') => ({ duration: duration.labels(name), errors: errors.labels(name) })

  let store: RedisRateLimitStore | PostgresRateLimitStore
  if (fastify.redis !== null) {
    store = new RedisRateLimitStore(fastify.redis, `${opts.keyPrefix}rl:`, observer('redis'))
  } else {
    store = new PostgresRateLimitStore(fastify.pg, observer('postgres'))
    sweepExpiredRows(fastify, 'rate_limit_counters', 'rate limit')
  }
  // The plugin builds a store per route from this constructor; ours hand back the one shared instance.
  const SharedStore = function () { return store } as unknown as new () => typeof store
  await fastify.register(fastifyRateLimit, {
    global: false,
    store: SharedStore,
    skipOnError: false
  })
}, { name: 'rate-limit', dependencies: ['pg', 'redis', 'metrics'] })
