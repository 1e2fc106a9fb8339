// A tiny in-test stand-in for the DocuMind API: the routes the load tester calls, with the
// contract's limits (signup 3/hour and login 5/minute per address, 50/hour per endpoint and
// address, 5 documents and 50 questions per user). Knobs break it on purpose.
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

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
      await new Promise((resolve) => setTimeout(resolve, opts.askLatencyMs ?? 5))
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
