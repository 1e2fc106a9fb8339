// A tiny in-test stand-in for the DocuMind API: the routes the load tester calls, with the
// contract's limits (signup 3/hour and login 5/minute per address, 50/hour per endpoint and
// address, 5 documents and 50 questions per user). Knobs break it on purpose.
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import { defaultConfig, type LoadTestConfig } from '../src/config.js'

export interface FakeApiOptions {
  /** Take the client address from X-Forwarded-For (like TRUST_PROXY listing the load tester). */
  trustXff?: boolean
  signupLimit?: number
  loginLimit?: number
  /** Answer 500 to every n-th GET /health (0 = never). */
  healthFailEvery?: number
  /** Close the connection without answering every n-th GET /health (0 = never). */
  healthDropEvery?: number
  askLatencyMs?: number
  /** Answer 503 (store unavailable, not counted) to every n-th POST /auth/login (0 = never). */
  loginFailEvery?: number
  /** Answer 200 {success:false, "busy"} to every n-th POST /upload (0 = never). */
  uploadBusyEvery?: number
  /** Routes that answer 404 (e.g. to hide the XFF probe routes). */
  missing?: string[]
  /**
   * Serve GET /metrics like the API (Prometheus text: request durations by method, route and
   * status, password hashing, LLM calls, CPU and event-loop time of "worker 0"). `token` requires
   * that bearer token; `uncounted` leaves one route out of the request counts (a miscount).
   */
  metrics?: { token?: string, uncounted?: string }
}

export interface FakeApi {
  url: string
  close: () => Promise<void>
  stats: { requests: number, byPath: Record<string, number> }
}

interface User { email: string, password: string, docs: Set<string>, queries: number }

export async function startFakeApi (opts: FakeApiOptions = {}): Promise<FakeApi> {
  const signupLimit = opts.signupLimit ?? 3
  const loginLimit = opts.loginLimit ?? 5
  const users = new Map<string, User>()
  const tokens = new Map<string, User>()
  const windows = new Map<string, { count: number, resetAt: number }>()
  const stats = { requests: 0, byPath: {} as Record<string, number> }
  let healthCount = 0
  let loginCount = 0
  let uploadCount = 0
  const registry = new FakeRegistry()
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
  // A stand-in for bcrypt under BCRYPT_CONCURRENCY=1: calls queue, then each takes 2 ms.
  let hashQueue: Promise<void> = Promise.resolve()
  const hash = async (operation: string): Promise<void> => {
    const queued = performance.now()
    const turn = hashQueue.then(async () => {
      const started = performance.now()
      registry.observe('password_hash_queue_wait_seconds', { operation }, (started - queued) / 1000)
      await sleep(2)
      registry.observe('password_hash_duration_seconds', { operation }, (performance.now() - started) / 1000)
    })
    hashQueue = turn
    await turn
  }

  const hit = (key: string, max: number, windowMs: number): boolean => {
    const now = Date.now()
    let w = windows.get(key)
    if (w === undefined || w.resetAt <= now) {
      w = { count: 0, resetAt: now + windowMs }
      windows.set(key, w)
    }
    w.count++
    return w.count <= max
  }

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body)
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    res.end(text)
  }

  const readBody = (req: IncomingMessage): Promise<Buffer> => new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { success: false, message: String(err) }))
  })

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!
    const started = performance.now()
    res.on('finish', () => {
      if (path !== opts.metrics?.uncounted) registry.observe('http_request_duration_seconds', { method: req.method ?? '', route: path, status_code: String(res.statusCode) }, (performance.now() - started) / 1000)
    })
    if (req.method === 'GET' && path === '/metrics') {
      if (opts.metrics === undefined) return send(res, 404, { success: false, message: 'not found' })
      if (opts.metrics.token !== undefined && req.headers.authorization !== `Bearer ${opts.metrics.token}`) return send(res, 401, { success: false, message: 'Unauthorized' })
      const text = registry.text()
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-length': Buffer.byteLength(text) })
      res.end(text)
      return
    }
    stats.requests++
    stats.byPath[`${req.method ?? ''} ${path}`] = (stats.byPath[`${req.method ?? ''} ${path}`] ?? 0) + 1
    const body = await readBody(req)
    const xff = req.headers['x-forwarded-for']
    const ip = opts.trustXff === true && typeof xff === 'string' ? xff.split(',').pop()!.trim() : req.socket.remoteAddress ?? '?'
    const json = (): Record<string, unknown> => {
      try { return JSON.parse(body.toString()) as Record<string, unknown> } catch { return {} }
    }
    const auth = (): User | undefined => tokens.get((req.headers.authorization ?? '').split(' ')[1] ?? '')
    const defaultLimit = (): boolean => {
      if (hit(`${ip}|${path}`, 50, 3_600_000)) return true
      send(res, 429, { success: false, message: 'Too many requests: 50 per 1 hour' })
      return false
    }
    if (opts.missing?.includes(path) === true) return send(res, 404, { success: false, message: 'not found' })

    if (req.method === 'GET' && path === '/health') {
      healthCount++
      if (opts.healthDropEvery !== undefined && opts.healthDropEvery > 0 && healthCount % opts.healthDropEvery === 0) {
        req.socket.destroy()
        return
      }
      if (opts.healthFailEvery !== undefined && opts.healthFailEvery > 0 && healthCount % opts.healthFailEvery === 0) {
        return send(res, 500, { success: false, status: 'unhealthy', message: 'boom' })
      }
      return send(res, 200, { success: true, status: 'healthy', components: {} })
    }
    if (req.method === 'GET' && path === '/health/ready') return send(res, 200, { success: true, status: 'ready' })
    if (req.method === 'GET' && path === '/tts/languages') {
      if (!defaultLimit()) return
      return send(res, 200, { success: true, languages: { en: 'English' }, total: 1 })
    }
    if (req.method === 'POST' && path === '/auth/signup') {
      if (!hit(`${ip}|signup`, signupLimit, 3_600_000)) return send(res, 429, { success: false, message: 'Too many requests: 3 per 1 hour' })
      const { email, password } = json()
      if (typeof email !== 'string' || typeof password !== 'string') return send(res, 400, { success: false, message: 'Email and password are required' })
      if (users.has(email)) return send(res, 400, { success: false, message: 'User already exists' })
      await hash('hash')
      const user: User = { email, password, docs: new Set(), queries: 0 }
      users.set(email, user)
      const token = randomUUID()
      tokens.set(token, user)
      return send(res, 200, { success: true, message: 'User created successfully', token, user: { id: randomUUID(), email } })
    }
    if (req.method === 'POST' && path === '/auth/login') {
      loginCount++
      if (opts.loginFailEvery !== undefined && opts.loginFailEvery > 0 && loginCount % opts.loginFailEvery === 0) {
        return send(res, 503, { success: false, message: 'Service temporarily unavailable. Please try again shortly.' })
      }
      if (!hit(`${ip}|login`, loginLimit, 60_000)) return send(res, 429, { success: false, message: 'Too many requests: 5 per 1 minute' })
      const { email, password } = json()
      const user = typeof email === 'string' ? users.get(email) : undefined
      if (user !== undefined) await hash('verify')
      if (user === undefined || user.password !== password) return send(res, 401, { success: false, message: 'Invalid credentials' })
      const token = randomUUID()
      tokens.set(token, user)
      return send(res, 200, { success: true, message: 'Login successful', token, user: { email } })
    }
    if (!defaultLimit()) return
    const user = auth()
    if (user === undefined) return send(res, 401, { error: 'No authorization header' })
    if (req.method === 'GET' && path === '/auth/me') return send(res, 200, { success: true, user: { email: user.email } })
    if (req.method === 'GET' && path === '/documents') return send(res, 200, { success: true, documents: [...user.docs].map((name) => ({ name })) })
    if (req.method === 'GET' && path === '/limits') {
      user.queries++
      return send(res, 200, { success: true, usage: { documents: { current: user.docs.size, limit: 5 } } })
    }
    if (req.method === 'POST' && path === '/upload') {
      const m = /filename="([^"]+)"/.exec(body.subarray(0, 1000).toString('latin1'))
      if (m === null) return send(res, 200, { success: false, message: 'No file uploaded' })
      uploadCount++
      if (opts.uploadBusyEvery !== undefined && opts.uploadBusyEvery > 0 && uploadCount % opts.uploadBusyEvery === 0) {
        return send(res, 200, { success: false, message: 'The server is busy processing other PDFs. Please try again in a minute.' })
      }
      if (user.docs.size >= 5) return send(res, 403, { success: false, message: 'Document limit reached.', limit_reached: true })
      if (body.length > 10 * 1024 * 1024 + 1000) return send(res, 413, { success: false, file_too_large: true })
      const name = m[1]!.replace(/\.pdf/g, '')
      user.docs.add(name)
      return send(res, 200, { success: true, message: `Successfully added ${name}`, statistics: { total_chunks: 3 } })
    }
    if (req.method === 'POST' && path === '/ask') {
      const { question } = json()
      if (typeof question !== 'string' || question.trim() === '') return send(res, 200, { success: false, message: 'Please enter a question' })
      user.queries++
      if (user.queries > 50) return send(res, 429, { success: false, message: 'Query limit reached.', limit_reached: true })
      if (user.docs.size === 0) return send(res, 200, { success: false, message: 'Please upload at least one PDF document before asking questions.', no_documents: true })
      const asked = performance.now()
      await sleep(opts.askLatencyMs ?? 5)
      registry.observe('groq_request_duration_seconds', { kind: 'chat', outcome: 'ok' }, (performance.now() - asked) / 1000)
      return send(res, 200, { success: true, answer: `An answer to: ${question}`, metadata: { cached: false } })
    }
    return send(res, 404, { success: false, message: 'not found' })
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  }
}

const BOUNDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** Just enough of prom-client for the fake: histograms, plus this process's CPU and event-loop time. */
class FakeRegistry {
  private readonly series = new Map<string, { name: string, labels: string, counts: number[], sum: number, count: number }>()
  private readonly elu = performance.eventLoopUtilization()

  observe (name: string, labels: Record<string, string>, seconds: number): void {
    const text = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')
    const key = `${name}{${text}}`
    let s = this.series.get(key)
    if (s === undefined) this.series.set(key, s = { name, labels: text, counts: BOUNDS.map(() => 0), sum: 0, count: 0 })
    BOUNDS.forEach((le, i) => { if (seconds <= le) s.counts[i]!++ })
    s.sum += seconds
    s.count++
  }

  text (): string {
    const lines: string[] = []
    for (const s of this.series.values()) {
      const sep = s.labels === '' ? '' : ','
      BOUNDS.forEach((le, i) => lines.push(`${s.name}_bucket{le="${le}"${sep}${s.labels}} ${s.counts[i]!}`))
      lines.push(`${s.name}_bucket{le="+Inf"${sep}${s.labels}} ${s.count}`)
      lines.push(`${s.name}_sum{${s.labels}} ${s.sum}`, `${s.name}_count{${s.labels}} ${s.count}`)
    }
    const cpu = process.cpuUsage()
    lines.push(`process_cpu_seconds_total{worker="0"} ${(cpu.user + cpu.system) / 1e6}`)
    lines.push(`nodejs_eventloop_active_seconds_total{worker="0"} ${performance.eventLoopUtilization(this.elu).active / 1000}`)
    lines.push('pg_pool_waiting_clients 0', 'ingestion_queue_depth 0')
    return `${lines.join('\n')}\n`
  }
}

/** A full run against a fake API, every scenario shrunk to a few seconds. */
export function fakeTargetConfig (target: string, overrides: Partial<LoadTestConfig> = {}): LoadTestConfig {
  return {
    ...defaultConfig(),
    target,
    quiet: true,
    timeoutS: 10,
    health: { requests: 50, connections: 50 },
    logins: { attempts: 30, perAddress: 10 },
    stress: { operations: 60 },
    query: { questions: 20, perUser: 10, quotaProbe: true },
    upload: { users: 2, sizeBytes: 20 * 1024 },
    sustained: { durationMs: 2500, users: 5, rate: 30 },
    connections: 20,
    ...overrides
  }
}
