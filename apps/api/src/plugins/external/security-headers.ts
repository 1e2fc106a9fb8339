import type { IncomingMessage, ServerResponse } from 'node:http'
import fp from 'fastify-plugin'
import helmet, { type HelmetOptions } from 'helmet'

export const HELMET_OPTIONS: Readonly<HelmetOptions> = {
  // A JSON API: no CSP needed: it serves no pages but Swagger UI's, which sets its own (swagger.ts).
  contentSecurityPolicy: false,
  // The React app plays /audio files from another origin with <audio src>, a no-cors request.
  crossOriginResourcePolicy: { policy: 'cross-origin' },
  crossOriginEmbedderPolicy: false
}

/**
 * Runs helmet once against a recording response and returns the headers it sets. With fixed options
 * (no CSP nonces) helmet's output never depends on the request, so it can be computed at boot.
 */
export function helmetHeaders (options: Readonly<HelmetOptions> = HELMET_OPTIONS): Record<string, string> {
  const headers = new Map<string, string>()
  const recorder = {
    setHeader (name: string, value: string | number | readonly string[]) {
      headers.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : String(value))
      return recorder
    },
    removeHeader (name: string) { headers.delete(name.toLowerCase()) }
  }
  helmet({ ...options })({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err
  })
  return Object.fromEntries(headers)
}

/**
 * helmet's headers on every response. @fastify/helmet rebuilds the helmet middleware and runs two async
 * hooks on every request (8.8% of the CPU of a GET /health in `npm run bench -- --cpu-prof`); we use no
 * per-route options, nonces or `reply.helmet()`, so one synchronous hook with precomputed headers does.
 */
export default fp(async (fastify) => {
  const headers = helmetHeaders()
  fastify.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers)
    done()
  })
}, { name: 'security-headers' })
