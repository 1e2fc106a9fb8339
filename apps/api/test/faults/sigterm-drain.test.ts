import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { request as httpRequest } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '@documind/harness'
import { createTestDatabase, TEST_JWT_SECRET, uniqueName } from '../helpers/app.js'
import { REPO_ROOT, startCluster, type Cluster } from '../helpers/cluster.js'
import { send, waitUntil, type RequestResult } from '../helpers/load-loop.js'
import { makeLargePdf, makePdf } from '../helpers/pdf-fixtures.js'
import { pm2Processes } from '../helpers/pm2-processes.js'

// SIGTERM while requests are in flight: server.ts (close-with-grace) drains for SHUTDOWN_DRAIN_MS, then
// closes; requests already running finish with their normal answer, and the process exits 0.

const GROQ_LATENCY_MS = 2500
const SERVER_JS = join(REPO_ROOT, 'apps/api/dist/server.js')
const GROQ_MOCK_CLI = join(REPO_ROOT, 'packages/groq-mock/dist/cli.js')

/** The Groq mock in a process of its own, so nothing the test process does can delay its answers. */
async function startMockProcess (latencyMs: number): Promise<{ url: string, stop: () => Promise<void> }> {
  const port = await freePort()
  const child = spawn(process.execPath, [GROQ_MOCK_CLI, '--port', String(port), '--latency', String(latencyMs)], { stdio: 'ignore' })
  const url = `http://127.0.0.1:${port}`
  await waitUntil(async () => (await send(url, { label: 'mock', path: '/__mock/health' }, 500)).status === 200, 10_000, 50)
  return {
    url,
    async stop () {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      await exited
    }
  }
}

const PAGES = ['Volcano field notes. The Krakatoa eruption of 1883 destroyed most of the island.']

/** A multipart upload whose body is written in pieces over `spreadMs`, so it is still arriving when the signal comes. */
async function slowUpload (baseUrl: string, token: string, pdf: Buffer, spreadMs: number): Promise<RequestResult> {
  const boundary = `----slow${randomBytes(6).toString('hex')}`
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.pdf"\r\nContent-Type: application/pdf\r\n\r\n`)
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  const body = Buffer.concat([head, pdf, tail])
  const pieces = 20
  const size = Math.ceil(body.length / pieces)
  return await new Promise((resolve) => {
    const req = httpRequest(new URL('/upload', baseUrl), {
      method: 'POST',
      agent: false,
      headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(body.length) }
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }))
    })
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: 0, error: err.code ?? err.message, body: '', headers: {} }))
    let i = 0
    const writeNext = (): void => {
      const piece = body.subarray(i * size, (i + 1) * size)
      i++
      if (i >= pieces) { req.end(piece); return }
      req.write(piece)
      setTimeout(writeNext, spreadMs / pieces)
    }
    writeNext()
  })
}

async function signupAndUpload (baseUrl: string, email: string): Promise<string> {
  const signup = await send(baseUrl, { label: 'signup', method: 'POST', path: '/auth/signup', body: { email, password: 'secret12' } })
  expect(signup.status).toBe(200)
  const token = (JSON.parse(signup.body) as { token: string }).token
  const form = new FormData()
  form.append('file', new Blob([await makePdf({ pages: PAGES })], { type: 'application/pdf' }), 'volcano.pdf')
  const uploaded = await fetch(`${baseUrl}/upload`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form })
  expect(await uploaded.json()).toMatchObject({ success: true })
  return token
}

const askSlowly = (baseUrl: string, token: string) => send(baseUrl, {
  label: 'ask',
  method: 'POST',
  path: '/ask',
  headers: { authorization: `Bearer ${token}` },
  body: { question: 'When was the Krakatoa eruption?', document_name: 'volcano' }
}, 20_000)

describe('SIGTERM with requests in flight', () => {
  let mock: { url: string, stop: () => Promise<void> }
  const drops: Array<() => Promise<void>> = []

  beforeAll(async () => {
    mock = await startMockProcess(GROQ_LATENCY_MS)
  })
  afterAll(async () => {
    await mock?.stop()
    for (const drop of drops) await drop()
  })

  const env = async (label: string): Promise<Record<string, string>> => {
    const db = await createTestDatabase(label)
    drops.push(db.drop)
    return {
      DATABASE_URL: db.url,
      SUPABASE_JWT_SECRET: TEST_JWT_SECRET,
      BCRYPT_COST: '4',
      REDIS_KEY_PREFIX: `${uniqueName(label)}:`,
      GROQ_API_KEY: 'test',
      GROQ_BASE_URL: mock.url,
      GROQ_MAX_RETRIES: '0',
      CLOSE_GRACE_MS: '10000',
      SHUTDOWN_DRAIN_MS: '1000',
      RATE_LIMIT_DEFAULT: '100000 per hour',
      RATE_LIMIT_SIGNUP: '1000 per hour'
    }
  }

  it('one server process: a slow /ask and a slow upload finish with 200, new work is told to go, exit code 0', { timeout: 40_000 }, async () => {
    const port = await freePort()
    const baseUrl = `http://127.0.0.1:${port}`
    const inherited = { ...process.env }
    delete inherited.REDIS_URL
    let output = ''
    const child: ChildProcess = spawn(process.execPath, [SERVER_JS], {
      cwd: REPO_ROOT,
      env: { ...inherited, ...await env('fault_sigterm'), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    child.stdout!.on('data', (c: Buffer) => { output += c.toString() })
    child.stderr!.on('data', (c: Buffer) => { output += c.toString() })
    const exited = once(child, 'exit')
    try {
      await waitUntil(async () => (await send(baseUrl, { label: 'health', path: '/health' }, 1000)).status === 200, 20_000)
      const token = await signupAndUpload(baseUrl, 'sigterm@example.com')
      const { pdf } = await makeLargePdf(1024 * 1024)

      const started = performance.now()
      const done: Record<string, number> = {}
      const ask = askSlowly(baseUrl, token).finally(() => { done.ask = performance.now() - started })
      const uploading = slowUpload(baseUrl, token, pdf, 2000).finally(() => { done.upload = performance.now() - started })
      await new Promise((resolve) => setTimeout(resolve, 500))
      child.kill('SIGTERM')
      const signalledAt = performance.now()
      // While draining: still serving, but every answer says "Connection: close" and readiness is off.
      await new Promise((resolve) => setTimeout(resolve, 200))
      const ready = await send(baseUrl, { label: 'ready', path: '/health/ready' }, 2000)

      const [askResult, uploadResult] = await Promise.all([ask, uploading])
      const [code, signal] = await exited as [number | null, string | null]
      const exitMs = performance.now() - signalledAt
      console.log(`[fault sigterm server] SIGTERM at 500 ms; /ask (Groq latency ${GROQ_LATENCY_MS} ms) answered ${askResult.status} at ${done.ask!.toFixed(0)} ms; ` +
        `slow upload answered ${uploadResult.status} at ${done.upload!.toFixed(0)} ms; readiness while draining ${ready.status}; process exited ${code} ${exitMs.toFixed(0)} ms after SIGTERM`)
      // Both were still running when the signal came.
      expect(done.ask).toBeGreaterThan(GROQ_LATENCY_MS)
      expect(done.upload).toBeGreaterThan(2000)

      expect(askResult.status, `${askResult.error ?? ''} ${askResult.body}`).toBe(200)
      expect(JSON.parse(askResult.body)).toMatchObject({ success: true, answer: expect.stringContaining('1883'), metadata: { cached: false } })
      expect(uploadResult.status, `${uploadResult.error ?? ''} ${uploadResult.body}`).toBe(200)
      expect(JSON.parse(uploadResult.body)).toMatchObject({ success: true, message: 'Successfully added slow' })
      expect(ready.status).toBe(503)
      expect(JSON.parse(ready.body)).toMatchObject({ status: 'draining' })
      expect(ready.headers.connection).toBe('close')
      expect({ code, signal }).toEqual({ code: 0, signal: null })
      // Closed for good: nothing listens any more.
      expect((await send(baseUrl, { label: 'health', path: '/health' }, 1000)).error).toBe('ECONNREFUSED')
    } catch (err) {
      console.log(output)
      throw err
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  })

  it('PM2 cluster: SIGTERM to the launcher (npm stop) lets an in-flight /ask finish, then exits 0', { timeout: 50_000 }, async () => {
    const cluster: Cluster = await startCluster({ ...await env('fault_sigterm_cluster'), WEB_CONCURRENCY: '2' })
    let stopped = false
    try {
      const token = await signupAndUpload(cluster.url, 'cluster-sigterm@example.com')
      expect(await pm2Processes(cluster)).toHaveLength(2)
      const started = performance.now()
      const asks = Promise.all([askSlowly(cluster.url, token), askSlowly(cluster.url, token)])
      await new Promise((resolve) => setTimeout(resolve, 500))
      const stopping = cluster.stop()
      const results = await asks
      const answeredAt = performance.now() - started
      const code = await stopping
      const exitedAt = performance.now() - started
      stopped = true
      console.log(`[fault sigterm cluster] SIGTERM to the launcher at 500 ms; in-flight /ask answers ${results.map((r) => r.status).join(', ')} ` +
        `at ${answeredAt.toFixed(0)} ms; launcher exited ${code} at ${exitedAt.toFixed(0)} ms`)
      expect(answeredAt).toBeGreaterThan(GROQ_LATENCY_MS)
      for (const r of results) {
        expect(r.status, `${r.error ?? ''} ${r.body}`).toBe(200)
        expect(JSON.parse(r.body)).toMatchObject({ success: true, answer: expect.stringContaining('1883') })
      }
      expect(code).toBe(0)
    } finally {
      if (!stopped) await cluster.stop()
    }
  })
})
