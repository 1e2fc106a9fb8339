/**
 * Measures a 10 MB upload through POST /upload and the latency of /health while it is ingested.
 * autocannon runs in its own process so it does not share the server's event loop. Prints the
 * figures (see the test output); asserts only generous bounds.
 */
import { spawn } from 'node:child_process'
import type { AddressInfo } from 'node:net'
import { createRequire } from 'node:module'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../../helpers/app.js'
import { createUser, GENEROUS_RATE_LIMITS, multipart } from '../../helpers/documents.js'
import { makeLargePdf } from '../../helpers/pdf-fixtures.js'

const MiB = 1024 * 1024
const HEALTH_RATE = 1000
const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon')
// A separate process running autocannon until SIGINT (the CLI only honours SIGINT in --on-port mode).
const RUNNER = `
const [modulePath, url, seconds, rate] = process.argv.slice(1)
const instance = require(modulePath)({ url, connections: 10, duration: Number(seconds), overallRate: Number(rate) }, (err, result) => {
  if (err) throw err
  process.stdout.write(JSON.stringify(result))
})
process.once('SIGINT', () => instance.stop())
`

interface CannonResult {
  requests: { total: number, average: number }
  latency: { p50: number, p90: number, p99: number, max: number }
  errors: number
  timeouts: number
  non2xx: number
}

/**
 * Runs autocannon (10 connections, `HEALTH_RATE` requests/s: a busy monitor plus users, leaving CPU for
 * the extraction on a 2-core machine) until `until` settles, or for `seconds`.
 */
async function cannon (url: string, options: { seconds?: number, until?: Promise<unknown> }): Promise<CannonResult> {
  const child = spawn(process.execPath, ['-e', RUNNER, AUTOCANNON, url, String(options.seconds ?? 600), String(HEALTH_RATE)], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  // Give autocannon a moment to connect before the measured work starts.
  await new Promise((resolve) => setTimeout(resolve, 300))
  if (options.until !== undefined) {
    await options.until.catch(() => {})
    child.kill('SIGINT')
  }
  await exited
  return JSON.parse(out) as CannonResult
}

function summary (r: CannonResult): string {
  return `${r.requests.total} req (${r.requests.average}/s), p50 ${r.latency.p50} ms, p90 ${r.latency.p90} ms, p99 ${r.latency.p99} ms, max ${r.latency.max} ms, errors ${r.errors + r.timeouts}, non-2xx ${r.non2xx}`
}

describe('10 MB upload under /health load', () => {
  let t: TestApp
  let base: string

  beforeAll(async () => {
    t = await buildTestApp({ label: 'documents_load', env: GENEROUS_RATE_LIMITS })
    await t.app.listen({ port: 0, host: '127.0.0.1' })
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await t.close()
  })

  it('ingests the file while /health keeps answering quickly', async () => {
    const user = await createUser(t.app)
    const { pdf, pageCount } = await makeLargePdf(9.8 * MiB)
    expect(pdf.length).toBeLessThanOrEqual(10 * MiB)
    const body = multipart({ filename: 'big.pdf', data: pdf })

    const quietStart = performance.now()
    const quiet = await t.app.inject({ method: 'POST', url: '/upload', payload: body.payload, headers: { ...user.headers, ...body.headers } })
    expect(quiet.json().success).toBe(true)
    console.log(`[upload-load] POST /upload of ${(pdf.length / MiB).toFixed(2)} MiB (${pageCount} pages), no other load: ${(performance.now() - quietStart).toFixed(0)} ms`)

    const idle = await cannon(`${base}/health`, { seconds: 5 })
    console.log(`[upload-load] /health alone: ${summary(idle)}`)

    // The same file again (it replaces the first) while /health is under load.
    const started = performance.now()
    let uploadMs = 0
    const uploading = fetch(`${base}/upload`, { method: 'POST', headers: { ...user.headers, ...body.headers }, body: body.payload })
      .then(async (res) => {
        uploadMs = performance.now() - started
        return { status: res.status, json: await res.json() as { success: boolean, statistics: { total_chunks: number } } }
      })
    const loaded = await cannon(`${base}/health`, { until: uploading })
    const res = await uploading
    console.log(`[upload-load] POST /upload of the same file (${res.json.statistics?.total_chunks} chunks) during /health load: ${uploadMs.toFixed(0)} ms`)
    console.log(`[upload-load] /health during ingestion: ${summary(loaded)}`)

    expect(res.status).toBe(200)
    expect(res.json.success).toBe(true)
    expect(res.json.statistics.total_chunks).toBe(pageCount)
    expect(loaded.errors + loaded.timeouts + loaded.non2xx).toBe(0)
    expect(loaded.latency.p99).toBeLessThan(500)
  }, 180_000)
})
