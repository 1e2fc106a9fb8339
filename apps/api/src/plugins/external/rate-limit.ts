import fastifyRateLimit from '@fastify/rate-limit'
import fp from 'fastify-plugin'
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
  let store: RedisRateLimitStore | PostgresRateLimitStore
  if (fastify.redis !== null) {
    store = new RedisRateLimitStore(fastify.redis, `${opts.keyPrefix}rl:`)
  } else {
    store = new PostgresRateLimitStore(fastify.pg)
    sweepExpiredRows(fastify, 'rate_limit_counters', 'rate limit')
  }
  // The plugin builds a store per route from this constructor; ours hand back the one shared instance.
  const SharedStore = function () { return store } as unknown as new () => typeof store
  await fastify.register(fastifyRateLimit, {
    global: false,
    store: SharedStore,
    skipOnError: false
  })
}, { name: 'rate-limit', dependencies: ['pg', 'redis'] })
