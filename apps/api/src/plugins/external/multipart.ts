import fastifyMultipart from '@fastify/multipart'
import fp from 'fastify-plugin'

/** Largest request body the original accepted (Flask MAX_CONTENT_LENGTH). */
export const MAX_REQUEST_BYTES = 50 * 1024 * 1024

/**
 * Registered by the routes that take uploads (/upload, /transcribe, /voice-query), not globally:
 * @fastify/multipart adds an async onRequest and onResponse hook (and a 'close' listener) to every
 * route of the context it is registered in, work every JSON request paid for nothing (~1% of a
 * GET /health's CPU, measured). Other routes answer a multipart body with 415, as the original did
 * for non-JSON bodies.
 */
export default fp(async (fastify) => {
  await fastify.register(fastifyMultipart, {
    limits: {
      // Routes pass their own, smaller fileSize; a truncated file must be checked (file.truncated) and refused.
      fileSize: MAX_REQUEST_BYTES,
      files: 1,
      fields: 10,
      fieldSize: 64 * 1024,
      parts: 20,
      headerPairs: 100
    }
  })
}, { name: 'multipart' })
