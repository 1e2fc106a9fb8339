import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuthUser } from './access-tokens.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * preParsing hook of the routes that need a logged-in user; answers the 401 shapes clients handle.
     * It runs before the body is parsed and validated, so an anonymous malformed body is a 401, as
     * the token is checked first.
     */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
  interface FastifyRequest {
    user: AuthUser
  }
}

export default fp(async (fastify) => {
  const tokens = fastify.accessTokens
  fastify.decorateRequest('user', null as unknown as AuthUser)

  async function authenticate (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization
    // Python's `if not auth_header`: an empty header is no header (Node trims a blank value to '').
    if (header === undefined || header.trim() === '') {
      return reply.code(401).send({ error: 'No authorization header' })
    }
    // The token is the second space-separated piece, whatever the scheme word (`Bearer`, `Token`, ...):
    // clients of the Flask backend may send either.
    const token = header.split(' ')[1]
    if (token === undefined) {
      return reply.code(401).send({ error: 'Invalid authorization header format' })
    }
    try {
      request.user = tokens.verify(token)
    } catch {
      return reply.code(401).send({ error: 'Invalid or expired token' })
    }
  }
  fastify.decorate('authenticate', authenticate)

  // Any later stage would parse and validate the body of an anonymous request first (a 400 with
  // validation details, or a 415) instead of answering 401.
  fastify.addHook('onRoute', (route) => {
    for (const stage of ['preValidation', 'preHandler'] as const) {
      const hooks = route[stage]
      if (hooks === authenticate || (Array.isArray(hooks) && hooks.includes(authenticate))) {
        throw new Error(`${String(route.method)} ${route.url}: run fastify.authenticate as a preParsing hook, not ${stage}`)
      }
    }
  })
}, { name: 'authenticate', dependencies: ['access-tokens'] })
