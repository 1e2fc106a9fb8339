import type { IncomingMessage } from 'node:http'
import { Socket } from 'node:net'
import { normalizeIP } from '@fastify/rate-limit'
import fp from 'fastify-plugin'
import { answerOnSocket, seconds } from '../../../lib/client-errors.js'

export interface RequestIntakeOptions {
  /** A body still arriving must bring at least `minBytes` in every window of `windowMs`. */
  windowMs: number
  minBytes: number
  /** Bodies one client address may be sending at once (in this worker process). */
  maxPerAddress: number
}

interface PendingBody {
  raw: IncomingMessage
  socket: Socket
  /** socket.bytesRead when the current window started. */
  mark: number
  since: number
}

/**
 * What a request must satisfy while it is still arriving, in the service's JSON envelope.
 *
 * HTTP/1.1 requires a Host header. Node checks it itself but answers an empty 400, so the server is
 * built with `requireHostHeader: false` (app.ts) and the check is made here.
 *
 * Request bodies still arriving are checked for progress. Node's `requestTimeout` bounds a whole
 * request, but a body trickled at one byte every few seconds would hold its connection until then
 * (and on routes that count their limit only after authentication, no limit counts it); so a body
 * must keep a minimum pace, and one address may only be sending so many at once. The pace is
 * measured on the socket (`bytesRead`), leaving the body stream to its consumer; a window in which
 * the service itself was not reading (data waiting unread, socket paused, event loop stalled) does
 * not count against the client.
 */
export default fp<RequestIntakeOptions>(async (fastify, opts) => {
  const { windowMs, minBytes, maxPerAddress } = opts
  const byAddress = new Map<string, Set<PendingBody>>()
  const tooSlow = `Request timeout: the request body arrived too slowly (less than ${minBytes} bytes in ${seconds(windowMs)}).`
  const retryAfter = Math.max(1, Math.ceil(windowMs / 1000))
  const tooMany = `Too many requests in progress: at most ${maxPerAddress} request bodies may be arriving at once from one address. Try again in ${seconds(retryAfter * 1000)}.`

  const arriving = (body: PendingBody): boolean => !body.raw.complete && !body.socket.destroyed

  function pendingFrom (address: string): Set<PendingBody> {
    let bodies = byAddress.get(address)
    if (bodies === undefined) {
      bodies = new Set()
      byAddress.set(address, bodies)
    }
    for (const body of bodies) if (!arriving(body)) bodies.delete(body)
    return bodies
  }

  // Global: a body sent with a GET or to an unknown path holds a connection just the same.
  fastify.addHook('onRequest', (request, reply, done) => {
    const raw = request.raw
    if (raw.headers.host === undefined && raw.httpVersion === '1.1') {
      reply.code(400).header('connection', 'close').send({ success: false, message: 'Bad request: HTTP/1.1 requires a Host header.' })
      return
    }
    const length = raw.headers['content-length']
    // inject() has no socket to hold and its body is already in memory.
    if ((raw.headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) ||
        raw.complete || !(raw.socket instanceof Socket)) {
      done()
      return
    }
    // The rate limiter's key: the socket address, or X-Forwarded-For from a TRUST_PROXY address.
    const bodies = pendingFrom(normalizeIP(request.ip))
    if (bodies.size >= maxPerAddress) {
      // Connection: close, so the refused body is not read on.
      reply.code(429).header('retry-after', retryAfter).header('connection', 'close').send({ success: false, message: tooMany })
      return
    }
    bodies.add({ raw, socket: raw.socket, mark: raw.socket.bytesRead, since: Date.now() })
    watch()
    done()
  })

  const periodMs = Math.max(25, Math.floor(windowMs / 4))
  let timer: NodeJS.Timeout | undefined
  let lastTick = 0

  function check (): void {
    const now = Date.now()
    // The event loop was blocked: sockets had no chance to be read, so every window starts again.
    const stalled = now - lastTick > 2 * periodMs
    lastTick = now
    for (const [address, bodies] of byAddress) {
      for (const body of bodies) {
        if (!arriving(body)) {
          bodies.delete(body)
          continue
        }
        if (!stalled && now - body.since < windowMs) continue
        const read = body.socket.bytesRead
        const oursToRead = body.raw.readableLength > 0 || body.socket.isPaused()
        if (stalled || oursToRead || read - body.mark >= minBytes) {
          body.mark = read
          body.since = now
          continue
        }
        bodies.delete(body)
        fastify.log.debug({ address, bytesRead: read }, 'request body too slow')
        answerOnSocket(body.socket, 408, tooSlow)
      }
      if (bodies.size === 0) byAddress.delete(address)
    }
    // Runs only while some body is arriving, so an idle worker (or a closed app) has no timer.
    if (byAddress.size === 0) {
      clearInterval(timer)
      timer = undefined
    }
  }

  function watch (): void {
    if (timer !== undefined) return
    lastTick = Date.now()
    timer = setInterval(check, periodMs)
    timer.unref()
  }
}, { name: 'request-intake' })
