import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { request as httpRequest } from 'node:http'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '@documind/harness'
import { TEST_JWT_SECRET } from '../helpers/app.js'
import { REPO_ROOT } from '../helpers/cluster.js'
import { send, waitUntil, type RequestResult } from '../helpers/load-loop.js'
import { OwnPostgres } from '../helpers/own-postgres.js'
import { makeLargePdf } from '../helpers/pdf-fixtures.js'

// An upload interrupted at every stage of ingestion leaves no half-indexed document: the client going
// away mid-body or mid-extraction, the server process SIGKILLed while it writes the chunks, Postgres
// crashing in the middle of that transaction. Afterwards the tables hold the complete document or
// nothing (checked in the tables themselves), and the service keeps working.

const SERVER_JS = join(REPO_ROOT, 'apps/api/dist/server.js')

interface DocRow { name: string, status: string, chunk_count: number, chunks: number, files: number }

describe('upload interrupted mid-ingestion', () => {
  let pgServer: OwnPostgres
  let databaseUrl: string
  let db: pg.Pool
  let port: number
  let baseUrl: string
  let server: ChildProcess | undefined
  let output = ''
  let token: string
  let userId: string
  let pdf: Buffer

  async function startServer (): Promise<void> {
    const inherited = { ...process.env }
    delete inherited.REDIS_URL
    output = ''
    server = spawn(process.execPath, [SERVER_JS], {
      cwd: REPO_ROOT,
      env: {
        ...inherited,
        DATABASE_URL: databaseUrl,
        SUPABASE_JWT_SECRET: TEST_JWT_SECRET,
        BCRYPT_COST: '4',
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        RATE_LIMIT_DEFAULT: '100000 per hour',
        // Small chunks: thousands of rows, so the write transaction lasts long enough to be interrupted.
        CHUNK_SIZE_WORDS: '40',
        CHUNK_OVERLAP_WORDS: '5',
        MAX_DOCUMENTS_PER_USER: '50'
      },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    server.stdout!.on('data', (c: Buffer) => { output += c.toString() })
    server.stderr!.on('data', (c: Buffer) => { output += c.toString() })
    await waitUntil(async () => (await send(baseUrl, { label: 'health', path: '/health/ready' }, 1000)).status === 200, 30_000)
  }

  async function killServer (): Promise<void> {
    const child = server
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGKILL')
    await exited
  }

  /** The user's documents as the tables hold them, with their real chunk and file counts. */
  async function documents (): Promise<DocRow[]> {
    const { rows } = await db.query<DocRow>(
      `SELECT d.name, d.status, d.chunk_count,
         (SELECT count(*)::int FROM document_chunks c WHERE c.document_id = d.id) AS chunks,
         (SELECT count(*)::int FROM document_files f WHERE f.document_id = d.id) AS files
       FROM documents d WHERE d.user_id = $1 ORDER BY d.name`, [userId])
    return rows
  }

  /** No document is half there: each one is ready with all its chunks and its file, or failed; no orphans. */
  async function expectConsistent (): Promise<DocRow[]> {
    const rows = await documents()
    for (const row of rows) {
      if (row.status === 'failed') continue
      expect(row).toMatchObject({ status: 'ready', files: 1 })
      expect(row.chunks).toBe(row.chunk_count)
      expect(row.chunks).toBeGreaterThan(0)
    }
    const orphans = await db.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM document_chunks c WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = c.document_id))
            + (SELECT count(*) FROM document_files f WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = f.document_id)) AS n`)
    expect(Number(orphans.rows[0]!.n)).toBe(0)
    return rows
  }

  /** Starts an upload of `pdf` as `<name>.pdf`; with `partialBytes` only that much of the body is written (the rest never comes). */
  function upload (name: string, options: { partialBytes?: number } = {}): { result: Promise<RequestResult>, request: () => ReturnType<typeof httpRequest> } {
    const boundary = `----cut${randomBytes(6).toString('hex')}`
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}.pdf"\r\nContent-Type: application/pdf\r\n\r\n`),
      pdf,
      Buffer.from(`\r\n--${boundary}--\r\n`)
    ])
    const req = httpRequest(new URL('/upload', baseUrl), {
      method: 'POST',
      agent: false,
      headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(body.length) }
    })
    const result = new Promise<RequestResult>((resolve) => {
      req.on('response', (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? '', body: Buffer.concat(chunks).toString(), headers: res.headers }))
        res.on('error', (err: NodeJS.ErrnoException) => resolve({ status: 0, error: err.code ?? err.message, body: '', headers: {} }))
      })
      req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: 0, error: err.code ?? err.message, body: '', headers: {} }))
    })
    if (options.partialBytes === undefined) req.end(body)
    else req.write(body.subarray(0, options.partialBytes))
    return { result, request: () => req }
  }

  /** Resolves once the server is inside the document write transaction (fails if the upload was answered first). */
  async function inWriteTransaction (answer: Promise<RequestResult>, timeoutMs = 30_000): Promise<number> {
    let answered: RequestResult | undefined
    answer.then((r) => { answered = r }, () => {})
    return await waitUntil(async () => {
      if (answered !== undefined) throw new Error(`the upload was answered before its write transaction was seen: ${answered.status} ${answered.body}\n${output}`)
      const { rowCount } = await db.query(
        `SELECT 1 FROM pg_stat_activity WHERE application_name = 'documind-api' AND xact_start IS NOT NULL
           AND query ILIKE 'INSERT INTO document_chunks%'`)
      return (rowCount ?? 0) > 0
    }, timeoutMs, 5)
  }

  beforeAll(async () => {
    pgServer = await OwnPostgres.start()
    databaseUrl = await pgServer.createDatabase('documind')
    port = await freePort()
    baseUrl = `http://127.0.0.1:${port}`
    await startServer()
    db = new pg.Pool({ connectionString: databaseUrl, max: 2 })
    db.on('error', () => {})
    const signup = await send(baseUrl, { label: 'signup', method: 'POST', path: '/auth/signup', body: { email: 'cut@example.com', password: 'secret12' } })
    expect(signup.status).toBe(200)
    const body = JSON.parse(signup.body) as { token: string, user: { id: string } }
    token = body.token
    userId = body.user.id
    pdf = (await makeLargePdf(1024 * 1024)).pdf
  }, 60_000)

  afterAll(async () => {
    await killServer()
    await db?.end()
    await pgServer?.destroy()
  })

  it('client gone in the middle of the body: nothing stored', async () => {
    const { result, request } = upload('cut-body', { partialBytes: Math.floor(pdf.length / 2) })
    await new Promise((resolve) => setTimeout(resolve, 300))
    request().destroy()
    await result
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect((await expectConsistent()).map((d) => d.name)).not.toContain('cut-body')
    expect((await send(baseUrl, { label: 'health', path: '/health/ready' })).status).toBe(200)
  })

  it('client gone during extraction: nothing stored', async () => {
    const { result, request } = upload('cut-extract')
    await new Promise((resolve) => setTimeout(resolve, 300))
    request().destroy()
    await result
    // Longer than the extraction would take, so a transaction it wrongly started would show.
    await new Promise((resolve) => setTimeout(resolve, 3000))
    expect((await expectConsistent()).map((d) => d.name)).not.toContain('cut-extract')
  })

  it('server SIGKILLed while writing the chunks: the transaction is rolled back, nothing stored', { timeout: 60_000 }, async () => {
    const { result } = upload('cut-kill')
    const waited = await inWriteTransaction(result)
    await killServer()
    const answer = await result
    expect(answer.status).toBe(0)
    const rows = await expectConsistent()
    console.log(`[fault upload] SIGKILL ${waited.toFixed(0)} ms into the upload, inside the write transaction; documents now: ${JSON.stringify(rows)}`)
    expect(rows.map((d) => d.name)).not.toContain('cut-kill')
    await startServer()
  })

  it('Postgres crashes while the chunks are written: 503 JSON, nothing stored, then uploads work again', { timeout: 60_000 }, async () => {
    const { result } = upload('cut-db')
    await inWriteTransaction(result)
    await pgServer.stop('immediate')
    const answer = await result
    await pgServer.start()
    console.log(`[fault upload] Postgres crashed inside the write transaction: upload answered ${answer.status} ${answer.body}`)
    expect(answer.status).toBe(503)
    expect(answer.contentType).toMatch(/^application\/json/)
    expect(JSON.parse(answer.body)).toMatchObject({ success: false, message: expect.any(String) })
    expect((await expectConsistent()).map((d) => d.name)).not.toContain('cut-db')

    // The same process recovers: the next upload is stored completely.
    let lastReady: RequestResult | undefined
    await waitUntil(async () => (lastReady = await send(baseUrl, { label: 'ready', path: '/health/ready' }, 2000)).status === 200, 10_000)
      .catch((err: unknown) => { console.log('READY', lastReady, output); throw err })
    const retry = await upload('after-crash').result
    expect(retry.status, retry.body).toBe(200)
    expect(JSON.parse(retry.body)).toMatchObject({ success: true, message: 'Successfully added after-crash' })
    const rows = await expectConsistent()
    expect(rows.filter((d) => d.name === 'after-crash')).toHaveLength(1)
    expect(server?.exitCode).toBe(null)
  })
})
