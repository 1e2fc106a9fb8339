import type { IncomingMessage, ServerResponse } from 'node:http'
import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyInstance {
    gracefulShutdown: GracefulShutdown
  }
}

export interface GracefulShutdown {
  /** Starts the drain before close: responses tell keep-alive clients to reconnect elsewhere. */
  startDraining: () => void
  readonly draining: boolean
}

function closeAfterResponse (_request: IncomingMessage, response: ServerResponse): void {
  response.setHeader('connection', 'close')
}

/**
 * Closing a server destroys its idle keep-alive sockets, and a request a client writes at that moment
 * is lost. So a stopping worker drains first: it keeps serving, answers every request with
 * `Connection: close` so keep-alive clients reconnect (to another worker), and /health/ready answers
 * 503 so a load balancer in front of a single instance stops sending traffic before the socket closes.
 */
export default fp(async (fastify) => {
  let draining = false
  fastify.decorate('gracefulShutdown', {
    startDraining () {
      if (draining) return
      draining = true
      // Added only now, ahead of Fastify's listener: an `onSend` hook would run on every response of the
      // worker's life for a header that only its last seconds need.
      fastify.server.prependListener('request', closeAfterResponse)
    },
    get draining () { return draining }
  })
}, { name: 'graceful-shutdown' })
