import bcrypt from 'bcrypt'
import fp from 'fastify-plugin'
import { Histogram } from 'prom-client'

declare module 'fastify' {
  interface FastifyInstance {
    passwordHasher: PasswordHasher
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

/** Runs at most `limit` tasks at once, the rest in arrival order. */
export function createLimiter (limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0
  const waiting: Array<() => void> = []
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve))
    else running++
    try {
      return await task()
    } finally {
      const next = waiting.shift()
      if (next === undefined) running--
      else next()
    }
  }
}

export interface PasswordHasherOptions {
  cost: number
  /** bcrypt operations running at once in this worker. */
  concurrency: number
}

export default fp<PasswordHasherOptions>(async (fastify, opts) => {
  // Native bcrypt runs on the libuv thread pool, off the event loop. Left alone, every worker would
  // run 4 hashes at once (the pool size): on 2 cores with 2 workers that is 8 CPU-bound threads, which
  // starve PostgreSQL (and with it every other request) without adding throughput. Capped at the
  // worker's share of the cores, logins queue fairly and the database keeps its CPU.
  const limit = createLimiter(opts.concurrency)
  const registers = [fastify.metrics.registry]
  const buckets = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
  const queueWait = new Histogram({ name: 'password_hash_queue_wait_seconds', help: 'Time bcrypt operations waited for a slot under the per-worker cap (BCRYPT_CONCURRENCY)', buckets, registers })
  const duration = new Histogram({ name: 'password_hash_duration_seconds', help: 'Duration of bcrypt operations by operation (hash, verify)', labelNames: ['operation'] as const, buckets, registers })
  const timed = async <T>(operation: 'hash' | 'verify', task: () => Promise<T>): Promise<T> => {
    const queued = performance.now()
    return await limit(async () => {
      const start = performance.now()
      queueWait.observe((start - queued) / 1000)
      try {
        return await task()
      } finally {
        duration.observe({ operation }, (performance.now() - start) / 1000)
      }
    })
  }
  const dummyHash = await bcrypt.hash('documind-dummy-password', opts.cost)
  const hasher: PasswordHasher = {
    hash: async (password) => await timed('hash', async () => await bcrypt.hash(password, opts.cost)),
    async verify (password, hash) {
      const ok = await timed('verify', async () => await bcrypt.compare(password, hash ?? dummyHash))
      return ok && hash !== undefined
    }
  }
  fastify.decorate('passwordHasher', hasher)
}, { name: 'password-hasher', dependencies: ['metrics'] })
