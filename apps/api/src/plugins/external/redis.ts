import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import { throttledWarning } from '../../lib/throttled-warning.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** null when REDIS_URL is not set: callers fall back to Postgres. */
    redis: Redis | null
  }
}

export interface RedisPluginOptions {
  url: string | undefined
}

export default fp<RedisPluginOptions>(async (fastify, opts) => {
  if (opts.url === undefined) {
    fastify.decorate('redis', null)
    return
  }
  const redis = new Redis(opts.url, {
    // During an outage no request may wait on Redis for more than about a second:
    // commands fail at once while disconnected, and a half-dead server times out after 500 ms.
    connectTimeout: 500,
    commandTimeout: 500,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // Keep reconnecting forever, at most a second apart, so the service recovers by itself.
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    lazyConnect: true
  })
  // A hung Redis (frozen, partitioned) keeps its socket open, so ioredis stays 'ready' and every later
  // command would wait its own 500 ms: /ask makes several in a row. After one command times out the
  // client reconnects, so later commands fail at once (no offline queue) until Redis answers again.
  const sendCommand = redis.sendCommand.bind(redis)
  redis.sendCommand = (command, stream) => {
    const result = sendCommand(command, stream)
    command.promise.catch((err: unknown) => {
      if (err instanceof Error && err.message === 'Command timed out' && redis.status === 'ready') redis.disconnect(true)
    })
    return result
  }
  // Throttled: a Redis outage would otherwise log on every reconnect attempt.
  redis.on('error', throttledWarning((err: Error) => fastify.log.warn({ err }, 'redis connection error')))
  try {
    await redis.connect()
  } catch (err) {
    // Starting while Redis is down is allowed: the limiter policy decides per route what that means.
    fastify.log.warn({ err }, 'redis unavailable at boot, will keep retrying')
  }
  fastify.decorate('redis', redis)
  fastify.addHook('onClose', async () => {
    redis.disconnect()
  })
}, { name: 'redis' })
