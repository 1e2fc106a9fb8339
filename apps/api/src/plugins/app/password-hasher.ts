import bcrypt from 'bcrypt'
import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyInstance {
    passwords: PasswordHasher
  }
}

/** bcrypt only reads the first 72 bytes; longer passwords are refused rather than silently truncated. */
export const BCRYPT_MAX_BYTES = 72
export const PASSWORD_TOO_LONG_MESSAGE = `Password must be at most ${BCRYPT_MAX_BYTES} bytes`

export function isPasswordTooLong (password: string): boolean {
  return Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_BYTES
}

export interface PasswordHasher {
  hash: (password: string) => Promise<string>
  /** Verifies against the stored hash, or against a dummy hash when there is no user, so both take as long. */
  verify: (password: string, hash: string | undefined) => Promise<boolean>
}

export default fp<{ cost: number }>(async (fastify, opts) => {
  // Native bcrypt runs on the libuv thread pool, off the event loop.
  const dummyHash = await bcrypt.hash('documind-dummy-password', opts.cost)
  const hasher: PasswordHasher = {
    hash: (password) => bcrypt.hash(password, opts.cost),
    async verify (password, hash) {
      const ok = await bcrypt.compare(password, hash ?? dummyHash)
      return ok && hash !== undefined
    }
  }
  fastify.decorate('passwords', hasher)
}, { name: 'password-hasher' })
