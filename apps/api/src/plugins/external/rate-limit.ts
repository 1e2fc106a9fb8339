import fastifyRateLimit from '@fastify/rate-limit'
import fp from 'fastify-plugin'
import { PostgresRateLimitStore, RedisRateLimitStore } from './rate-limit-stores.js'

declare module 'fastify' {
  interface FastifyInstance {
    rateLimitStoreKind: 'redis' | 'postgres'
  }
}

export interface RateLimitPluginOptions {
  keyPrefix: string
}

/**
 * @fastify/rate-limit with a store every worker shares. Limits are attached per route by
 * plugins/app/rate-limit-policy.ts, so the plugin itself is not global.
 */
export default fp<RateLimitPluginOptions>(async (fastify, opts) => {
  let store: RedisRateLimitStore | PostgresRateLimitStore
  if (fastify.redis !== null) {
    store = new RedisRateLimitStore(fastify.redis, `${opts.keyPrefix}rl:`)
    fastify.decorate('rateLimitStoreKind', 'redis')
  } else {
    const pgStore = new PostgresRateLimitStore(fastify.pg)
    store = pgStore
    fastify.decorate('rateLimitStoreKind', 'postgres')
    const timer = setInterval(() => {
      pgStore.sweep().catch((err: unknown) => fastify.log.warn({ err }, 'rate limit sweep failed'))
    }, 60_000)
    timer.unref()
    fastify.addHook('onClose', async () => clearInterval(timer))
  }
  // The plugin builds a store per route from this constructor; ours hand back the one shared instance.
  const SharedStore = function () { return store } as unknown as new () => typeof store
  await fastify.register(fastifyRateLimit, {
    global: false,
    store: SharedStore,
    skipOnError: false
  })
}, { name: 'rate-limit', dependencies: ['postgres', 'redis'] })
