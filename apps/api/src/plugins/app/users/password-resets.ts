import { createHash, randomBytes } from 'node:crypto'
import fp from 'fastify-plugin'
import type pg from 'pg'

declare module 'fastify' {
  interface FastifyInstance {
    passwordResets: PasswordResetsRepository
  }
}

export const RESET_TOKEN_TTL_SECONDS = 3600

function hashToken (token: string): Buffer {
  return createHash('sha256').update(token).digest()
}

/** Reset tokens live in Postgres (hashed), so they work with or without Redis and survive restarts. */
export class PasswordResetsRepository {
  constructor (private readonly pool: pg.Pool) {}

  /** Same shape as Python's secrets.token_urlsafe(32). */
  async create (userId: string): Promise<string> {
    const token = randomBytes(32).toString('base64url')
    await this.pool.query(
      'INSERT INTO password_reset_tokens (token_hash, user_id, expires_at) VALUES ($1, $2, now() + $3 * interval \'1 second\')',
      [hashToken(token), userId, RESET_TOKEN_TTL_SECONDS]
    )
    // Expired tokens of anyone are dropped here rather than by a timer.
    await this.pool.query('DELETE FROM password_reset_tokens WHERE expires_at < now()')
    return token
  }

  /** Consumes the token atomically: a second use, or a use after expiry, finds nothing. */
  async consume (token: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ user_id: string }>(
      'DELETE FROM password_reset_tokens WHERE token_hash = $1 AND expires_at > now() RETURNING user_id',
      [hashToken(token)]
    )
    return rows[0]?.user_id
  }

  /** After a successful reset, links sent earlier must not work either. */
  async revokeAll (userId: string): Promise<void> {
    await this.pool.query('DELETE FROM password_reset_tokens WHERE user_id = $1', [userId])
  }
}

export default fp(async (fastify) => {
  fastify.decorate('passwordResets', new PasswordResetsRepository(fastify.pg))
}, { name: 'password-resets', dependencies: ['pg'] })
