import { request as httpRequest } from 'node:http'

/** One request the loop sends again and again. */
export interface LoadRequest {
  label: string
  method?: string
  path: string
  headers?: Record<string, string>
  body?: unknown
}

export interface LoadSample {
  label: string
  /** ms since the loop started. */
  startedAt: number
  ms: number
  /** HTTP status, or 0 when the request failed at the socket level (see error). */
  status: number
  error?: string
  contentType?: string
  body: string
  headers: Record<string, string | string[] | undefined>
}

export interface RequestResult {
  status: number
  error?: string
  contentType?: string
  body: string
  headers: Record<string, string | string[] | undefined>
}

/**
 * One HTTP request on a fresh connection (so a PM2 cluster spreads them over its workers), with a
 * hard timeout: a request that hangs is recorded as an error, never waited on forever.
 */
export async function send (baseUrl: string, req: LoadRequest, timeoutMs = 5000): Promise<RequestResult> {
  const url = new URL(req.path, baseUrl)
  const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body))
  return await new Promise((resolve) => {
    let settled = false
    const done = (result: RequestResult): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(result)
    }
    const r = httpRequest(url, {
      method: req.method ?? 'GET',
      agent: false,
      headers: {
        connection: 'close',
        ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(payload.length) }),
        ...req.headers
      }
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => done({
        status: res.statusCode ?? 0,
        ...(res.headers['content-type'] === undefined ? {} : { contentType: res.headers['content-type'] }),
        body: Buffer.concat(chunks).toString(),
        headers: res.headers
      }))
      res.on('error', (err: NodeJS.ErrnoException) => done({ status: 0, error: err.code ?? err.message, body: '', headers: {} }))
    })
    const timer = setTimeout(() => {
      r.destroy()
      done({ status: 0, error: 'TIMEOUT', body: '', headers: {} })
    }, timeoutMs)
    r.on('error', (err: NodeJS.ErrnoException) => done({ status: 0, error: err.code ?? err.message, body: '', headers: {} }))
    r.end(payload)
  })
}

export interface LoadLoop {
  samples: LoadSample[]
  /** ms since the loop started. */
  now: () => number
  /**
   * Resolves with the first sample (already in, or still to come) that matches, or null after
   * `timeoutMs`: a test waits for an event, such as a recovery, instead of a fixed time.
   */
  waitFor: (match: (s: LoadSample) => boolean, timeoutMs: number) => Promise<LoadSample | null>
  stop: () => Promise<LoadSample[]>
}

/**
 * `concurrency` virtual clients, each sending the requests of `mix` in turn (offset per client) as
 * fast as they are answered, until stop().
 */
export function startLoadLoop (baseUrl: string, mix: LoadRequest[], options: { concurrency?: number, timeoutMs?: number, pauseMs?: number } = {}): LoadLoop {
  const { concurrency = 8, timeoutMs = 5000, pauseMs = 0 } = options
  const samples: LoadSample[] = []
  const t0 = performance.now()
  const now = (): number => performance.now() - t0
  const state = { running: true }
  const clients = Array.from({ length: concurrency }, async (_, c) => {
    for (let i = c; state.running; i++) {
      const req = mix[i % mix.length]!
      const startedAt = now()
      const result = await send(baseUrl, req, timeoutMs)
      samples.push({ label: req.label, startedAt, ms: now() - startedAt, ...result })
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs))
    }
  })
  return {
    samples,
    now,
    async waitFor (match, timeoutMs) {
      const deadline = now() + timeoutMs
      let seen = 0
      for (;;) {
        const found = samples.slice(seen).find(match)
        if (found !== undefined) return found
        seen = samples.length
        if (now() > deadline) return null
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    },
    async stop () {
      state.running = false
      await Promise.all(clients)
      return samples
    }
  }
}

/** Counts of `label status` pairs, e.g. { 'login 503': 40, 'me 200': 80 }. */
export function tally (samples: LoadSample[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const s of samples) {
    const key = `${s.label} ${s.status === 0 ? `ERR:${s.error ?? '?'}` : s.status}`
    counts[key] = (counts[key] ?? 0) + 1
  }
  return counts
}

/** Waits until `check` is true, polling; returns the ms it took, or throws after timeoutMs. */
export async function waitUntil (check: () => Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<number> {
  const started = performance.now()
  for (;;) {
    if (await check()) return performance.now() - started
    if (performance.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
