import { connect } from 'node:net'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { dbSnapshot, NO_RATE_LIMITS } from '../helpers/bad-input.js'

// Requests broken below the router (oversized headers, malformed request lines, request smuggling
// shapes), sent over a real socket because inject() cannot produce them. Node's parser refuses them;
// Fastify answers a JSON {error, message} and closes the connection; the process keeps serving.

interface RawAnswer { status: number, contentType: string, body: string }

let t: TestApp
let db: pg.Pool
let port: number

async function raw (request: string | Buffer, timeoutMs = 5000): Promise<RawAnswer> {
  return await new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' })
    const chunks: Buffer[] = []
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('no answer')) }, timeoutMs)
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      const text = Buffer.concat(chunks).toString('latin1')
      const [head = '', body = ''] = text.split('\r\n\r\n', 2)
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0)
      const contentType = /\r\ncontent-type: ([^\r\n]*)/i.exec(head)?.[1] ?? ''
      resolve({ status, contentType, body })
    })
    socket.write(request)
    // Half-close: the server answers what it got (or rejects it) and closes.
    socket.end()
  })
}

const get = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extra}\r\n`

/** `bare`: Node's HTTP server answers it itself, before any application code, with an empty 400. */
const cases: Array<{ name: string, request: () => string | Buffer, status: number, bare?: true }> = [
  { name: 'a 20 KB header', status: 431, request: () => get('/health', `X-Big: ${'b'.repeat(20 * 1024)}\r\n`) },
  { name: 'a 20 KB Authorization header on /auth/me', status: 431, request: () => get('/auth/me', `Authorization: Bearer ${'t'.repeat(20 * 1024)}\r\n`) },
  { name: 'a 100 KB URL', status: 431, request: () => get(`/documents/search?q=${'q'.repeat(100 * 1024)}`) },
  { name: 'garbage instead of a request line', status: 400, request: () => 'THIS IS NOT HTTP AT ALL\r\n\r\n' },
  { name: 'a control character in a header value', status: 400, request: () => get('/health', 'X-Evil: a\u0001b\r\n') },
  { name: 'a header name with a space', status: 400, request: () => get('/health', 'Bad Header: x\r\n') },
  { name: 'Content-Length and Transfer-Encoding together (smuggling)', status: 400, request: () => 'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n' },
  { name: 'two different Content-Length headers', status: 400, request: () => 'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}' },
  { name: 'a negative Content-Length', status: 400, request: () => 'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -5\r\n\r\n{}' },
  { name: 'broken chunked encoding', status: 400, request: () => 'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n{}\r\n0\r\n\r\n' },
  { name: 'HTTP/1.1 without a Host header (Node answers a bare 400)', status: 400, bare: true, request: () => 'GET /health HTTP/1.1\r\nConnection: close\r\n\r\n' },
  { name: 'a raw NUL byte in the path', status: 400, request: () => Buffer.from('GET /audio/a\u0000.wav HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 'latin1') }
]

describe('protocol-level garbage over a real socket', () => {
  let before: Record<string, string>

  beforeAll(async () => {
    t = await buildTestApp({ label: 'bad_raw', env: NO_RATE_LIMITS })
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
      expect(answer.status, answer.body).toBe(c.status)
      // An empty chunked body ("0"): nothing of ours to check.
      if (c.bare === true) return
      expect(answer.contentType).toMatch(/^application\/json/)
      const body = JSON.parse(answer.body) as { error?: unknown, success?: unknown, message?: unknown }
      expect(body.success === false || typeof body.error === 'string').toBe(true)
      expect(typeof body.message).toBe('string')
    })
  }

  it('changed nothing and still serves normal requests on new connections', async () => {
    expect(await dbSnapshot(db)).toEqual(before)
    const health = await raw(get('/health'))
    expect(health.status).toBe(200)
    expect(JSON.parse(health.body)).toMatchObject({ success: true, status: 'healthy' })
  })
})
