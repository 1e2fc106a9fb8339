import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { dbSnapshot, NO_RATE_LIMITS } from '../helpers/bad-input.js'
import { openRaw, rawRequest, type RawAnswer } from '../helpers/raw-http.js'

// Requests broken below the router (oversized headers, malformed request lines, request smuggling
// shapes, requests that never finish), sent over a real socket because inject() cannot produce
// them. Node's parser or its request timeouts refuse them; the answer is the service's JSON
// envelope with Connection: close, and the process keeps serving.

const HEADERS_TIMEOUT_MS = 1000

let t: TestApp
let db: pg.Pool
let port: number

const raw = async (request: string | Buffer): Promise<RawAnswer> => await rawRequest(port, request)

const get = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extra}\r\n`

const cases: Array<{ name: string, request: () => string | Buffer, status: number, message?: RegExp }> = [
  { name: 'a 20 KB header', status: 431, request: () => get('/health', `X-Big: ${'b'.repeat(20 * 1024)}\r\n`) },
  { name: 'a 20 KB Authorization header on /auth/me', status: 431, request: () => get('/auth/me', `Authorization: Bearer ${'t'.repeat(20 * 1024)}\r\n`) },
  { name: 'a 100 KB URL', status: 431, request: () => get(`/documents/search?q=${'q'.repeat(100 * 1024)}`) },
  { name: 'a path parameter over the router\'s limit', status: 414, request: () => `DELETE /documents/${'d'.repeat(600)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n` },
  { name: 'garbage instead of a request line', status: 400, request: () => 'THIS IS NOT HTTP AT ALL\r\n\r\n' },
  { name: 'a control character in a header value', status: 400, request: () => get('/health', 'X-Evil: a\u0001b\r\n') },
  { name: 'a header name with a space', status: 400, request: () => get('/health', 'Bad Header: x\r\n') },
  { name: 'Content-Length and Transfer-Encoding together (smuggling)', status: 400, request: () => 'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n' },
  { name: 'two different Content-Length headers', status: 400, request: () => 'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}' },
  { name: 'a negative Content-Length', status: 400, request: () => 'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -5\r\n\r\n{}' },
  { name: 'broken chunked encoding', status: 400, request: () => 'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n{}\r\n0\r\n\r\n' },
  { name: 'a 20 KB chunk extension', status: 413, request: () => `POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2;a=${'x'.repeat(20 * 1024)}\r\n{}\r\n0\r\n\r\n` },
  { name: 'HTTP/1.1 without a Host header', status: 400, message: /Host header/, request: () => 'GET /health HTTP/1.1\r\nConnection: close\r\n\r\n' },
  { name: 'a raw NUL byte in the path', status: 400, request: () => Buffer.from('GET /audio/a\u0000.wav HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 'latin1') }
]

/** What every refusal below the routes must look like. */
function expectEnvelope (answer: RawAnswer, status: number, message?: RegExp): void {
  expect(answer.status, answer.text.slice(0, 300)).toBe(status)
  expect(answer.headers['content-type']).toMatch(/^application\/json/)
  expect(answer.headers.connection).toMatch(/^close$/i)
  // The whole body, exactly as long as announced, and nothing after it.
  expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body, 'latin1'))
  expect(answer.text.endsWith(answer.body)).toBe(true)
  const body = JSON.parse(answer.body) as { success?: unknown, message?: unknown }
  expect(body.success).toBe(false)
  expect(typeof body.message).toBe('string')
  if (message !== undefined) expect(body.message).toMatch(message)
}

describe('protocol-level garbage over a real socket', () => {
  let before: Record<string, string>

  beforeAll(async () => {
    t = await buildTestApp({ label: 'bad_raw', env: { ...NO_RATE_LIMITS, HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), REQUEST_TIMEOUT_MS: '2000' } })
    db = new pg.Pool({ connectionString: t.databaseUrl, max: 2 })
    await t.app.listen({ port: 0, host: '127.0.0.1' })
    const address = t.app.server.address()
    if (address === null || typeof address === 'string') throw new Error('no address')
    port = address.port
    before = await dbSnapshot(db)
  })

  afterAll(async () => {
    await db?.end()
    await t?.close()
  })

  for (const c of cases) {
    it(c.name, async () => {
      const answer = await raw(c.request())
      expectEnvelope(answer, c.status, c.message)
    })
  }

  it('headers that never finish: 408 once the headers timeout has passed', async () => {
    // Not half-closed: the client simply stops sending.
    const answer = await openRaw({ port, head: 'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: appl' }).answer
    expectEnvelope(answer, 408, /^Request timeout/)
    expect(answer.ms).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS)
  })

  it('changed nothing and still serves normal requests on new connections', async () => {
    expect(await dbSnapshot(db)).toEqual(before)
    const health = await raw(get('/health'))
    expect(health.status).toBe(200)
    expect(JSON.parse(health.body)).toMatchObject({ success: true, status: 'healthy' })
  })
})
