/** Small `node:http` helpers: request headers and bodies, JSON / binary / SSE replies, Groq's error envelope. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { MockOutcome } from './types.js'

/** An error answered with Groq's envelope `{"error":{"message","type","code"}}`, counted under `outcome`. */
export class HttpError extends Error {
  constructor (
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string | null,
    readonly outcome: MockOutcome
  ) {
    super(message)
  }
}

export function badRequest (message: string, code: string | null = null): HttpError {
  return new HttpError(400, message, 'invalid_request_error', code, 'bad_request')
}

export function header (req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

/** A header holding a number >= 0; absent or blank = undefined, anything else is a 400. */
export function numberHeader (req: IncomingMessage, name: string): number | undefined {
  const raw = header(req, name)
  if (raw === undefined || raw.trim() === '') return undefined
  const n = Number(raw)
  if (!Number.isFinite(n) || n < 0) throw badRequest(`invalid ${name} header: ${raw}`)
  return n
}

/** Buffers the whole request body; above `limit` bytes it rejects with a 413 and drops what it read. */
export function readBody (req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let failed = false
    req.on('data', (c: Buffer) => {
      if (failed) return
      size += c.length
      if (size > limit) {
        failed = true
        chunks.length = 0
        reject(new HttpError(413, `Request body too large (limit ${limit} bytes)`, 'invalid_request_error',
          'request_too_large', 'bad_request'))
        return
      }
      chunks.push(c)
    })
    req.on('end', () => { if (!failed) resolve(Buffer.concat(chunks, size)) })
    req.on('error', (err) => { if (!failed) { failed = true; reject(err) } })
  })
}

/** The body as a JSON object; a JSON content type is required. */
export function parseJsonBody (req: IncomingMessage, body: Buffer): Record<string, unknown> {
  const ct = (header(req, 'content-type') ?? '').toLowerCase()
  if (!ct.includes('json')) throw badRequest('Content-Type must be application/json')
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch {
    throw badRequest('request body is not valid JSON', 'json_invalid')
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw badRequest('request body must be a JSON object')
  }
  return parsed as Record<string, unknown>
}

export function requireString (body: Record<string, unknown>, key: string): string {
  const v = body[key]
  if (typeof v !== 'string' || v.trim() === '') {
    throw badRequest(`'${key}' : property '${key}' is missing or not a non-empty string`)
  }
  return v
}

/** Sends a complete reply with a content length; does nothing once the response is gone or started. */
export function sendBytes (res: ServerResponse, status: number, contentType: string, payload: Buffer,
  headers: Record<string, string> = {}): void {
  if (res.destroyed || res.headersSent) return
  res.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': payload.length })
  res.end(payload)
}

export function sendJson (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendBytes(res, status, 'application/json', Buffer.from(JSON.stringify(body)), headers)
}

export function errorBody (message: string, type: string, code: string | null): { error: { message: string, type: string, code: string | null } } {
  return { error: { message, type, code } }
}

/** Starts a server-sent-events reply that proxies must not buffer. */
export function startSse (res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no'
  })
}

/** One SSE `data:` event carrying `body` as JSON. */
export function sseEvent (body: unknown): string {
  return `data: ${JSON.stringify(body)}\n\n`
}
