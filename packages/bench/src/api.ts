// Setup calls to the API (users, documents, sanity checks). Not measured, except upload timing.
import { Agent, request } from 'node:http'
import { randomBytes } from 'node:crypto'
import { multipartFile } from '@documind/harness'

export interface BenchUser {
  email: string
  password: string
  token: string
}

export interface JsonResponse {
  status: number
  text: string
  body: Record<string, unknown>
  headers: Record<string, string>
  /** Raw bytes of the status line and headers, plus the body. */
  bytes: number
}

/** One request on the given keep-alive agent (the same connection, hence the same PM2 worker, when it has one socket). */
export async function httpJson (url: string, options: { method?: string, headers?: Record<string, string>, body?: Buffer | string, agent?: Agent, timeoutMs?: number } = {}): Promise<JsonResponse & { ms: number }> {
  const start = performance.now()
  return await new Promise((resolve, reject) => {
    const req = request(url, {
      method: options.method ?? 'GET',
      headers: { ...options.headers, ...(options.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(options.body)) }) },
      ...(options.agent === undefined ? {} : { agent: options.agent }),
      timeout: options.timeoutMs ?? 300_000
    }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (part: Buffer) => parts.push(part))
      res.on('end', () => {
        const text = Buffer.concat(parts).toString()
        let body: Record<string, unknown> = {}
        try {
          body = JSON.parse(text) as Record<string, unknown>
        } catch {
          body = { raw: text }
        }
        const headers: Record<string, string> = {}
        for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') headers[name] = value
        const headBytes = `HTTP/1.1 ${res.statusCode ?? 0} ${res.statusMessage ?? ''}\r\n`.length +
          res.rawHeaders.reduce((sum, item) => sum + item.length + 2, 0) + 2
        resolve({ status: res.statusCode ?? 0, text, body, headers, bytes: headBytes + Buffer.concat(parts).length, ms: performance.now() - start })
      })
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`${url}: timed out`)))
    req.on('error', reject)
    if (options.body !== undefined) req.write(options.body)
    req.end()
  })
}

export async function postJson (url: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonResponse & { ms: number }> {
  return await httpJson(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
}

/** Signs a new user up through the API (a real bcrypt hash at the stack's cost). */
export async function signup (baseUrl: string, label: string): Promise<BenchUser> {
  const email = `${label}-${randomBytes(5).toString('hex')}@bench.example.com`
  const password = `bench-${randomBytes(6).toString('hex')}`
  const res = await postJson(`${baseUrl}/auth/signup`, { email, password })
  if (res.status !== 200 || typeof res.body.token !== 'string') throw new Error(`signup failed: ${res.status} ${JSON.stringify(res.body)}`)
  return { email, password, token: res.body.token }
}

export async function uploadPdf (baseUrl: string, user: BenchUser, filename: string, data: Buffer, agent?: Agent): Promise<JsonResponse & { ms: number }> {
  const form = multipartFile('file', filename, data)
  return await httpJson(`${baseUrl}/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${user.token}`, 'content-type': form.contentType },
    body: form.body,
    ...(agent === undefined ? {} : { agent })
  })
}

/** A keep-alive agent with one socket: consecutive requests reach the same PM2 worker. */
export function stickyAgent (): Agent {
  return new Agent({ keepAlive: true, maxSockets: 1 })
}
