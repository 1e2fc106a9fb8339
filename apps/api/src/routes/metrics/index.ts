import type { FastifyPluginAsync } from 'fastify'

/**
 * Prometheus scrape of the whole cluster (plugins/external/metrics.ts merges every worker). On the API
 * port only with METRICS_TOKEN, as a bearer token; otherwise it is the same 404 as an unknown path.
 * METRICS_PORT serves it without a token on a listener of its own.
 */
const metricsRoutes: FastifyPluginAsync = async (fastify) => {
  fastify.get('/metrics', {
    // Prometheus scrapes every few seconds from one address; the token is the guard here.
    config: { rateLimitPolicy: false }
  }, async (request, reply) => {
    const { metrics } = fastify
    if (!metrics.onApiPort) return reply.callNotFound()
    if (!metrics.authorized(request.headers.authorization)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ success: false, message: 'Unauthorized' })
    }
    return reply.type(metrics.contentType).send(await metrics.scrape())
  })
}

export default metricsRoutes
