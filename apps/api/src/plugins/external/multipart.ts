import fastifyMultipart from '@fastify/multipart'
import fp from 'fastify-plugin'

/** Largest request body the original accepted (Flask MAX_CONTENT_LENGTH). */
export const MAX_REQUEST_BYTES = 50 * 1024 * 1024

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
