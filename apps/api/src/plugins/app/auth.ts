import { createSecretKey } from 'node:crypto'
import fp from 'fastify-plugin'
import jwt from 'jsonwebtoken'
import type { FastifyReply, FastifyRequest } from 'fastify'

export interface AuthUser {
  id: string
  email: string
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * preParsing hook of the routes that need a logged-in user; answers the 401 shapes clients handle.
     * It runs before the body is parsed and validated, so an anonymous malformed body is a 401, as
     * the token is checked first.
     */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
    issueToken: (user: AuthUser) => string
  }
  interface FastifyRequest {
    user: AuthUser
  }
}

/** Same lifetime and claims as the Flask backend's tokens (user_id, email, iat, exp), so those keep working. */
export const TOKEN_LIFETIME_SECONDS = 7 * 24 * 3600

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export default fp<{ secret: string }>(async (fastify, opts) => {
  // A KeyObject, made once: given a string, jsonwebtoken first tries (and fails) to parse it as a
  // public key on every call, which cost ~8% of an /ask.
  const secret = createSecretKey(Buffer.from(opts.secret, 'utf8'))

  fastify.decorateRequest('user', null as unknown as AuthUser)

  fastify.decorate('issueToken', (user: AuthUser) => {
    const iat = Math.floor(Date.now() / 1000)
    return jwt.sign({ user_id: user.id, email: user.email, iat, exp: iat + TOKEN_LIFETIME_SECONDS }, secret, { algorithm: 'HS256' })
  })

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
      // Pinning the algorithm rejects `alg: none` and key-confusion tokens.
      const payload = jwt.verify(token, secret, { algorithms: ['HS256'] })
      if (typeof payload !== 'object' || typeof payload.user_id !== 'string' || !UUID_RE.test(payload.user_id) || typeof payload.email !== 'string') {
        throw new Error('token without user claims')
      }
      request.user = { id: payload.user_id, email: payload.email }
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
}, { name: 'auth' })
