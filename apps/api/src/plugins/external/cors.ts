import type { FastifyReply } from 'fastify'
import fp from 'fastify-plugin'

/** The Flask backend's flask-cors settings, so the React app's preflights pass unchanged. */
export const CORS_METHODS = 'GET, HEAD, POST, PUT, DELETE, OPTIONS'
export const CORS_ALLOWED_HEADERS = 'Content-Type, Authorization, baggage, sentry-trace, X-Requested-With, Accept, Origin, Range'
export const CORS_EXPOSED_HEADERS = 'Content-Type, Authorization, Content-Length, Content-Range, Accept-Ranges, Retry-After'
export const CORS_MAX_AGE = '3600'

/** Adds `Origin` to the Vary header, as @fastify/cors does (kept when already listed or `*`). */
function varyOrigin (reply: FastifyReply): void {
  const current = reply.getHeader('vary')
  if (current === undefined || current === '') {
    reply.header('vary', 'Origin')
    return
  }
  const text = Array.isArray(current) ? current.join(', ') : String(current)
  const fields = text.split(',').map((field) => field.trim().toLowerCase())
  if (fields.includes('*') || fields.includes('origin')) return
  reply.header('vary', `${text}, Origin`)
}

/**
 * CORS for every route, with the headers and preflight answers @fastify/cors gives with
 * `{ origin: origins, credentials: true, methods, allowedHeaders, exposedHeaders, maxAge: 3600,
 * strictPreflight: false }` (a test compares both). That plugin copies its options into a new object,
 * builds a callback and re-reads Vary on every request, a few % of a GET /health; with these fixed
 * options the same answer is a set lookup and four headers.
 */
export default fp<{ origins: string[] }>(async (fastify, opts) => {
  // '*' in the list allows any origin, with a literal `*` and no Vary, as the plugin does.
  const anyOrigin = opts.origins.includes('*')
  const allowed = new Set(opts.origins)

  fastify.addHook('onRequest', function cors (request, reply, done) {
    if (anyOrigin) {
      reply.header('access-control-allow-origin', '*')
    } else {
      varyOrigin(reply)
      const origin = request.headers.origin
      if (origin !== undefined && allowed.has(origin)) reply.header('access-control-allow-origin', origin)
    }
    reply.header('access-control-allow-credentials', 'true')
    reply.header('access-control-expose-headers', CORS_EXPOSED_HEADERS)
    if (request.raw.method === 'OPTIONS') {
      // A preflight (or a bare OPTIONS, which is not refused) is answered here, before authentication.
      reply.header('access-control-allow-methods', CORS_METHODS)
      reply.header('access-control-allow-headers', CORS_ALLOWED_HEADERS)
      reply.header('access-control-max-age', CORS_MAX_AGE)
      reply.code(204).header('content-length', '0').send()
      return
    }
    done()
  })

  // Lets the router accept OPTIONS on any path; the hook above has always answered by then.
  fastify.options('*', { schema: { hide: true } }, (_request, reply) => {
    reply.send()
  })
}, { name: 'cors' })
