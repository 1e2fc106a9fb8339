import { STATUS_CODES, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { ConnectionError, FastifyInstance } from 'fastify'

/**
 * Writes a complete `{success:false, message}` answer straight to the socket and closes it: for
 * errors raised below Fastify (Node's parser, its request timeouts), where there is no reply object.
 * Nothing is written when the socket is gone or a response on it has already started (that would
 * corrupt what the client is reading, so the connection is only closed, as Node itself does).
 */
export function answerOnSocket (socket: Socket, status: number, message: string): void {
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage
  if (socket.destroyed || !socket.writable || inFlight?.headersSent === true) {
    socket.destroy()
    return
  }
  const body = JSON.stringify({ success: false, message })
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' + body,
    // The answer is handed to the kernel; the rest of the client's request is never read.
    () => socket.destroy()
  )
}

/** Status and message for an error raised before routing (parser errors, request timeouts). */
function describeClientError (err: ConnectionError & { reason?: unknown }, timeouts: { requestMs: number, headersMs: number }): { status: number, message: string } {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        message: `Request timeout: the headers must arrive within ${seconds(timeouts.headersMs)} and the whole request within ${seconds(timeouts.requestMs)}.`
      }
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, message: 'Request line and headers are too large.' }
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, message: 'Chunk extensions are too large.' }
    default:
      // llhttp's reason names the fault ("Invalid header value char"); it says nothing about the server.
      return { status: 400, message: typeof err.reason === 'string' && err.reason !== '' ? `Malformed HTTP request: ${err.reason}.` : 'Malformed HTTP request.' }
  }
}

export function seconds (ms: number): string {
  const s = Math.round(ms / 100) / 10
  return `${s} ${s === 1 ? 'second' : 'seconds'}`
}

/** Fastify's `clientErrorHandler`: the service's JSON envelope for what Node refuses before routing. */
export function clientErrorHandler (timeouts: { requestMs: number, headersMs: number }) {
  return function onClientError (this: FastifyInstance, err: ConnectionError, socket: Socket): void {
    // The client reset the connection: nobody is left to answer.
    if (err.code === 'ECONNRESET' || socket.destroyed) {
      socket.destroy()
      return
    }
    const { status, message } = describeClientError(err, timeouts)
    // Not the error itself: its rawPacket holds whatever the client sent.
    this.log.debug({ code: err.code, status }, 'client error')
    answerOnSocket(socket, status, message)
  }
}
