import fp from 'fastify-plugin'
import Groq from 'groq-sdk'

declare module 'fastify' {
  interface FastifyInstance {
    /** null without GROQ_API_KEY: answers are extractive and speech uses a local engine, if any. */
    groq: Groq | null
  }
}

export interface GroqPluginOptions {
  apiKey: string | undefined
  baseUrl: string | undefined
  /** Per-attempt timeout; a stalled upstream must never hang a request. */
  timeoutMs: number
  maxRetries: number
}

export default fp<GroqPluginOptions>(async (fastify, opts) => {
  if (opts.apiKey === undefined) {
    fastify.decorate('groq', null)
    return
  }
  fastify.decorate('groq', new Groq({
    apiKey: opts.apiKey,
    ...(opts.baseUrl === undefined ? {} : { baseURL: opts.baseUrl }),
    timeout: opts.timeoutMs,
    maxRetries: opts.maxRetries
  }))
}, { name: 'groq' })
