import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyInstance {
    /** Starts the drain before close: responses tell keep-alive clients to reconnect elsewhere. */
    startDraining: () => void
    isDraining: () => boolean
  }
}

/**
 * Closing a server destroys its idle keep-alive sockets, and a request a client writes at that moment
 * is lost. So a stopping worker drains first: it keeps serving, answers every request with
 * `Connection: close` so keep-alive clients reconnect (to another worker), and /health/ready answers
 * 503 so a load balancer in front of a single instance stops sending traffic before the socket closes.
 */
export default fp(async (fastify) => {
  let draining = false
  fastify.decorate('startDraining', () => { draining = true })
  fastify.decorate('isDraining', () => draining)
  // A callback hook, not async: it runs on every response.
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (draining) reply.header('connection', 'close')
    done(null, payload)
  })
}, { name: 'graceful-shutdown' })
