import { createSecretKey, type KeyObject } from 'node:crypto'
import fp from 'fastify-plugin'
import jwt from 'jsonwebtoken'

export interface AuthUser {
  id: string
  email: string
}

declare module 'fastify' {
  interface FastifyInstance {
    accessTokens: AccessTokens
  }
}

/** Same lifetime and claims as the Flask backend's tokens (user_id, email, iat, exp), so those keep working. */
export const TOKEN_LIFETIME_SECONDS = 7 * 24 * 3600

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** HS256 JSON Web Tokens that carry the user's id and email. */
export class AccessTokens {
  readonly #secret: KeyObject

  constructor (secret: string) {
    // A KeyObject, made once: given a string, jsonwebtoken first tries (and fails) to parse it as a
    // public key on every call, which cost ~8% of an /ask.
    this.#secret = createSecretKey(Buffer.from(secret, 'utf8'))
  }

  issue (user: AuthUser): string {
    const iat = Math.floor(Date.now() / 1000)
    return jwt.sign({ user_id: user.id, email: user.email, iat, exp: iat + TOKEN_LIFETIME_SECONDS }, this.#secret, { algorithm: 'HS256' })
  }

  /** The token's user; throws when the token is forged, expired or lacks the user claims. */
  verify (token: string): AuthUser {
    // Pinning the algorithm rejects `alg: none` and key-confusion tokens.
    const payload = jwt.verify(token, this.#secret, { algorithms: ['HS256'] })
    if (typeof payload !== 'object' || typeof payload.user_id !== 'string' || !UUID_RE.test(payload.user_id) || typeof payload.email !== 'string') {
      throw new Error('token without user claims')
    }
    return { id: payload.user_id, email: payload.email }
  }
}

export default fp<{ secret: string }>(async (fastify, opts) => {
  fastify.decorate('accessTokens', new AccessTokens(opts.secret))
}, { name: 'access-tokens' })
