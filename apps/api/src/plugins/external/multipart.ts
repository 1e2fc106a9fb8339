import fastifyMultipart from '@fastify/multipart'
import { errorCodes, type FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

/** Largest request body accepted (50 MiB, the Flask backend's MAX_CONTENT_LENGTH). */
export const MAX_REQUEST_BYTES = 50 * 1024 * 1024

/**
 * Registered by the routes that take uploads (/upload, /transcribe, /voice-query), not globally:
 * @fastify/multipart adds an async onRequest and onResponse hook (and a 'close' listener) to every
 * route of the context it is registered in, work every JSON request paid for nothing (~1% of a
 * GET /health's CPU, measured). Other routes answer a multipart body with 415, like any
 * other non-JSON body.
 */
export default fp(async (fastify) => {
  // These routes read multipart bodies only. Any other body (a raw PDF, JSON, text, an unknown or
  // missing content type) is read to the same cap and discarded, so the route answers as for a
  // request without files (200 "No file uploaded" / "No audio file provided"),
  // never a 415 or the 1 MiB JSON limit.
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser('*', discardBody)
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

/** Reads a body to its end without keeping it, within the same 50 MiB cap as a multipart body. */
function discardBody (request: FastifyRequest, payload: NodeJS.ReadableStream, done: (err: Error | null, body?: undefined) => void): void {
  if (Number(request.headers['content-length']) > MAX_REQUEST_BYTES) {
    done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE())
    return
  }
  let received = 0
  const finish = (err?: Error | null): void => {
    payload.removeListener('data', onData)
    payload.removeListener('end', finish)
    payload.removeListener('error', finish)
    // A broken or aborted body is the client's fault, as Fastify's own body reader treats it.
    if (err != null && (err as { statusCode?: number }).statusCode === undefined) Object.assign(err, { statusCode: 400 })
    done(err ?? null)
  }
  const onData = (chunk: Buffer | string): void => {
    received += chunk.length
    if (received > MAX_REQUEST_BYTES) finish(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE())
  }
  payload.on('data', onData)
  payload.on('end', finish)
  payload.on('error', finish)
  payload.resume()
}
