import { readFile } from 'node:fs/promises'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestCluster, type Cluster } from '../helpers/cluster.js'
import { multipart } from '../helpers/documents.js'
import { hostilePdfs, slowPdf } from '../helpers/hostile-pdfs.js'
import { makePdf } from '../helpers/pdf-fixtures.js'
import { pm2Processes } from '../helpers/pm2-processes.js'

// Decompression bombs uploaded to the real launcher (PM2, 2 workers): each ends in the soft failure
// 200 {success:false, message} with nothing stored, no worker's RSS grows past the budget, no worker
// is recycled, and another user's upload made meanwhile is stored in about its usual time.

const MiB = 1024 * 1024
const TOO_COMPLEX = 'This PDF is too large or complex to process. Please split it into smaller files.'
const TOO_SLOW = 'Processing this PDF took too long. Please split it into smaller files.'
/** The extraction timeout of this cluster: short, so the slow file below meets it quickly. */
const EXTRACT_TIMEOUT_MS = 8000
/** What one extraction may add to a worker: the 128 MiB decode budget, the 128 MB heap, pdf.js itself. */
const WORKER_GROWTH_BOUND = 320 * MiB

interface User { token: string }

async function signup (url: string, email: string): Promise<User> {
  const res = await fetch(`${url}/auth/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'secret12' }) })
  expect(res.status).toBe(200)
  return await res.json() as User
}

async function upload (url: string, user: User, filename: string, data: Buffer): Promise<{ status: number, body: { success: boolean, message?: string }, ms: number }> {
  const form = multipart({ filename, data })
  const started = performance.now()
  const res = await fetch(`${url}/upload`, { method: 'POST', headers: { authorization: `Bearer ${user.token}`, ...form.headers }, body: form.payload })
  return { status: res.status, body: await res.json() as { success: boolean, message?: string }, ms: performance.now() - started }
}

async function rssBytes (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024
}

describe('hostile PDFs against the real cluster', () => {
  let cluster: Cluster & { databaseUrl: string }
  let db: pg.Pool

  beforeAll(async () => {
    cluster = await startTestCluster('fault_hostile_pdfs', { RATE_LIMIT_DEFAULT: '100000 per hour', RATE_LIMIT_SIGNUP: '1000 per hour', PDF_EXTRACT_TIMEOUT_MS: String(EXTRACT_TIMEOUT_MS) })
    db = new pg.Pool({ connectionString: cluster.databaseUrl, max: 1 })
  }, 90_000)

  afterAll(async () => {
    await db?.end()
    expect(await cluster?.stop()).toBe(0)
  })

  it('refuses bombs within the budget while another user uploads normally, and recycles no worker', { timeout: 120_000 }, async () => {
    const attacker1 = await signup(cluster.url, 'bomb1@example.com')
    const attacker2 = await signup(cluster.url, 'bomb2@example.com')
    const honest = await signup(cluster.url, 'honest@example.com')
    const normal = await makePdf({ pages: ['A short report about the Zephyr lighthouse and its keeper.'] })
    const bombs = hostilePdfs(1024 * MiB)
    const pick = (name: string): Buffer => bombs.find((b) => b.name === name)!.data

    // Warm both workers' extraction threads, then time the honest upload with nothing else running.
    await Promise.all([upload(cluster.url, honest, 'warm1.pdf', normal), upload(cluster.url, honest, 'warm2.pdf', normal)])
    const alone = await upload(cluster.url, honest, 'alone.pdf', normal)
    expect(alone.body.success).toBe(true)

    const workers = await pm2Processes(cluster)
    expect(workers.map((w) => w.status)).toEqual(['online', 'online'])
    const idle = await Promise.all(workers.map(async (w) => await rssBytes(w.pid)))
    const peak = [...idle]
    const sampling = new AbortController()
    const sampler = (async () => {
      while (!sampling.signal.aborted) {
        const now = await Promise.all(workers.map(async (w) => await rssBytes(w.pid)))
        now.forEach((rss, i) => { peak[i] = Math.max(peak[i]!, rss) })
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
    })()

    // Two bombs (two attackers, so both workers are likely busy), and the honest upload right after.
    const hostile = Promise.all([
      upload(cluster.url, attacker1, 'many-streams.pdf', pick('many-streams')),
      upload(cluster.url, attacker2, 'object-stream.pdf', pick('object-stream'))
    ])
    await new Promise((resolve) => setTimeout(resolve, 200))
    const during = await upload(cluster.url, honest, 'during.pdf', normal)
    const refused = await hostile
    sampling.abort()
    await sampler

    for (const res of refused) {
      expect(res.status).toBe(200)
      expect(res.body).toEqual({ success: false, message: TOO_COMPLEX })
    }
    expect(during.status).toBe(200)
    expect(during.body.success).toBe(true)
    // Before the bound, such an upload waited for the bombs (55 s in the attack run); now the bombs end in seconds.
    expect(during.ms).toBeLessThan(alone.ms + 10_000)
    console.log(`[hostile-pdfs] honest upload alone ${alone.ms.toFixed(0)} ms, during two bombs ${during.ms.toFixed(0)} ms; bombs ${refused.map((r) => r.ms.toFixed(0)).join(', ')} ms; worker RSS idle ${idle.map((b) => (b / MiB).toFixed(0)).join('/')} MiB, peak ${peak.map((b) => (b / MiB).toFixed(0)).join('/')} MiB`)
    peak.forEach((rss, i) => { expect(rss - idle[i]!).toBeLessThan(WORKER_GROWTH_BOUND) })

    // Nothing of the attackers' was stored, and the workers are the same processes.
    const stored = await db.query<{ name: string }>('SELECT name FROM documents ORDER BY name')
    expect(stored.rows.map((r) => r.name)).toEqual(['alone', 'during', 'warm1', 'warm2'])
    const after = await pm2Processes(cluster)
    expect(after.map((w) => [w.pid, w.restarts, w.status])).toEqual(workers.map((w) => [w.pid, w.restarts, 'online']))
  })

  it('ends a file made to be slow at the extraction timeout, while other uploads go on', { timeout: 120_000 }, async () => {
    const attacker1 = await signup(cluster.url, 'slow1@example.com')
    const attacker2 = await signup(cluster.url, 'slow2@example.com')
    const honest = await signup(cluster.url, 'patient@example.com')
    const normal = await makePdf({ pages: ['The keeper of the Zephyr lighthouse was Ada Brandt.'] })
    const alone = await upload(cluster.url, honest, 'alone.pdf', normal)
    expect(alone.body.success).toBe(true)
    const workers = await pm2Processes(cluster)

    // One slow file on each worker (two attackers), then the honest upload: it gets a thread of its own.
    const slow = Promise.all([upload(cluster.url, attacker1, 'slow1.pdf', slowPdf()), upload(cluster.url, attacker2, 'slow2.pdf', slowPdf())])
    await new Promise((resolve) => setTimeout(resolve, 500))
    const during = await upload(cluster.url, honest, 'during.pdf', normal)
    const ended = await slow
    console.log(`[hostile-pdfs] honest upload alone ${alone.ms.toFixed(0)} ms, during two slow files ${during.ms.toFixed(0)} ms; slow files ended after ${ended.map((r) => r.ms.toFixed(0)).join(', ')} ms`)
    expect(during.body.success).toBe(true)
    expect(during.ms).toBeLessThan(EXTRACT_TIMEOUT_MS)
    for (const res of ended) {
      expect(res.body).toEqual({ success: false, message: TOO_SLOW })
      expect(res.ms).toBeGreaterThanOrEqual(EXTRACT_TIMEOUT_MS - 100)
      expect(res.ms).toBeLessThan(EXTRACT_TIMEOUT_MS + 10_000)
    }
    const stored = await db.query<{ email: string }>('SELECT u.email FROM documents d JOIN users u ON u.id = d.user_id WHERE u.email LIKE $1', ['slow%'])
    expect(stored.rowCount).toBe(0)
    const after = await pm2Processes(cluster)
    expect(after.map((w) => [w.pid, w.restarts, w.status])).toEqual(workers.map((w) => [w.pid, w.restarts, 'online']))
  })
})
