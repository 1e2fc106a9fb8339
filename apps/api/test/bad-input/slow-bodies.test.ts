import type { IncomingMessage } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { NO_RATE_LIMITS } from '../helpers/bad-input.js'
import { createUser, multipart } from '../helpers/documents.js'
import { makePdf } from '../helpers/pdf-fixtures.js'
import { openRaw, type RawAnswer, type RawConnection } from '../helpers/raw-http.js'

// Request bodies that arrive too slowly, over real sockets: the pace rule (BODY_PROGRESS_*), the
// whole-request timeout, the per-address cap on bodies still arriving, and an honest slow upload
// that stays within all of them. Short settings keep the file fast; the pacing below keeps a wide
// margin (x10) on both sides of each rule, so a busy machine only makes answers later.

const WINDOW_MS = 1000
const MIN_BYTES = 256
const REQUEST_TIMEOUT_MS = 4000
const MAX_PENDING = 3

let t: TestApp
let port: number

/** Seen by the server (its 'request' event), per X-Forwarded-For address. */
const seen = new Map<string, IncomingMessage[]>()

const login = (address: string, length: number, extra = ''): string =>
  `POST /auth/login HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: ${address}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${extra}\r\n`

/** A body that keeps ten times the minimum pace: never timed out for being slow. */
function steady (address: string): RawConnection {
  return openRaw({ port, head: login(address, 1_000_000), body: Buffer.alloc(1_000_000, 0x20), pieceBytes: MIN_BYTES, everyMs: 100 })
}

/** A whole request at once, answered and closed by the server (Connection: close, not a half-close, which Node treats as an abort). */
async function send (head: string): Promise<RawAnswer> {
  return await openRaw({ port, head }).answer
}

async function until (condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

function expectJson (answer: RawAnswer, status: number, message: RegExp): void {
  expect(answer.status, answer.text.slice(0, 300)).toBe(status)
  expect(answer.headers['content-type']).toMatch(/^application\/json/)
  expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body, 'latin1'))
  const body = JSON.parse(answer.body) as { success?: unknown, message?: unknown }
  expect(body.success).toBe(false)
  expect(body.message).toMatch(message)
}

describe('slow request bodies over a real socket', () => {
  beforeAll(async () => {
    t = await buildTestApp({
      label: 'bad_slow',
      env: {
        ...NO_RATE_LIMITS,
        // X-Forwarded-For from loopback picks the client address, as behind a proxy.
        TRUST_PROXY: '127.0.0.1',
        REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        HEADERS_TIMEOUT_MS: '2000',
        BODY_PROGRESS_WINDOW_MS: String(WINDOW_MS),
        BODY_PROGRESS_MIN_BYTES: String(MIN_BYTES),
        MAX_PENDING_BODIES_PER_ADDRESS: String(MAX_PENDING)
      }
    })
    await t.app.listen({ port: 0, host: '127.0.0.1' })
    const address = t.app.server.address()
    if (address === null || typeof address === 'string') throw new Error('no address')
    port = address.port
    t.app.server.on('request', (req: IncomingMessage) => {
      const from = String(req.headers['x-forwarded-for'])
      seen.set(from, [...(seen.get(from) ?? []), req])
    })
  })

  afterAll(async () => {
    await t?.close()
  })

  it('a body trickled a byte at a time gets 408 JSON after one window, and the connection is closed', async () => {
    const answer = await openRaw({ port, head: login('203.0.113.1', 100) + '{', body: Buffer.alloc(99, 0x20), pieceBytes: 1, everyMs: 400 }).answer
    expectJson(answer, 408, /arrived too slowly/)
    expect(answer.headers.connection).toMatch(/^close$/i)
    // A window must have passed; the whole-request timeout (a different message) did not act.
    expect(answer.ms).toBeGreaterThanOrEqual(WINDOW_MS)
  })

  it('the same on /upload, where the limit is counted only after authentication', async () => {
    const head = 'POST /upload HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.2\r\nAuthorization: Bearer x.y.z\r\n' +
      'Content-Type: multipart/form-data; boundary=B\r\nContent-Length: 100000\r\n\r\n--B\r\n'
    const answer = await openRaw({ port, head, body: Buffer.alloc(1000, 0x61), pieceBytes: 1, everyMs: 400 }).answer
    // The bad token is refused at once; the body still arriving is then timed out on the same connection.
    expect(answer.status).toBe(401)
    expect(answer.text).toMatch(/HTTP\/1\.1 408 Request Timeout\r\n[\s\S]*"success":false,"message":"Request timeout: the request body arrived too slowly/)
  })

  it('a body that keeps the pace but outlasts REQUEST_TIMEOUT_MS gets 408 JSON', async () => {
    const answer = await steady('203.0.113.3').answer
    expectJson(answer, 408, /whole request within 4 seconds/)
    expect(answer.headers.connection).toMatch(/^close$/i)
    expect(answer.ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS)
  })

  it('caps the bodies one address sends at once; other addresses, and the same address once they end, are served', async () => {
    const address = '203.0.113.4'
    const held = Array.from({ length: MAX_PENDING }, () => steady(address))
    await until(() => (seen.get(address)?.length ?? 0) >= MAX_PENDING, 'the held requests to reach the server')

    // Many more from the same address: each refused at once and its connection closed.
    const refused = await Promise.all(Array.from({ length: 20 }, async () => await steady(address).answer))
    for (const answer of refused) {
      expectJson(answer, 429, /at most 3 request bodies may be arriving at once from one address/)
      expect(answer.headers['retry-after']).toBe('1')
      expect(answer.headers.connection).toMatch(/^close$/i)
    }

    // Another address is answered normally, and so is the capped address when it sends no body.
    const other = await send(login('203.0.113.5', 2, 'Connection: close\r\n') + '{}')
    expectJson(other, 400, /Email and password are required/)
    const health = await send(`GET /health HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: ${address}\r\nConnection: close\r\n\r\n`)
    expect(health.status).toBe(200)

    // The held bodies were never answered or closed meanwhile.
    for (const connection of held) expect(connection.received()).toBe('')
    for (const connection of held) connection.socket.destroy()
    await Promise.all(seen.get(address)!.slice(0, MAX_PENDING).map(async (req) => {
      if (!req.destroyed) await new Promise((resolve) => req.once('close', resolve))
    }))
    const again = await send(login(address, 2, 'Connection: close\r\n') + '{}')
    expectJson(again, 400, /Email and password are required/)
  })

  it('an honest upload sent slowly but steadily, over several windows, is stored', async () => {
    const user = await createUser(t.app, 'slow')
    const pdf = await makePdf({ pages: ['A slowly uploaded page about tidal energy. '.repeat(200)], compress: false })
    const { payload, headers } = multipart({ filename: 'slow.pdf', data: pdf })
    const head = `POST /upload HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.6\r\nAuthorization: ${user.headers.authorization}\r\n` +
      `Content-Type: ${headers['content-type']}\r\nContent-Length: ${payload.length}\r\nConnection: close\r\n\r\n`
    // About 1.5 s, ten times the minimum pace and well inside the whole-request timeout.
    const everyMs = 100
    const pieceBytes = Math.max(MIN_BYTES * (everyMs / WINDOW_MS) * 10, Math.ceil(payload.length / 15))
    const answer = await openRaw({ port, head, body: payload, pieceBytes, everyMs }).answer
    expect(answer.status, answer.text.slice(0, 500)).toBe(200)
    expect(JSON.parse(answer.body)).toMatchObject({ success: true, document: { name: 'slow', bytes: pdf.length } })
    expect(answer.ms).toBeGreaterThanOrEqual(WINDOW_MS)
  })
})
