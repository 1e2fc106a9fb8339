import fastifyHelmet from '@fastify/helmet'
import fp from 'fastify-plugin'

export default fp(async (fastify) => {
  await fastify.register(fastifyHelmet, {
    // A JSON API: no CSP needed (the original had it off too).
    contentSecurityPolicy: false,
    // The React app plays /audio files from another origin with <audio src>, a no-cors request.
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    crossOriginEmbedderPolicy: false
  })
}, { name: 'helmet' })
