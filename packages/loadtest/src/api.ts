// A small fetch-based client for the setup steps that happen outside the measured runs
// (creating users, uploading their first document, probing the target).

export interface ApiAnswer {
  status: number
  json: Record<string, unknown> | undefined
  text: string
}

export interface CallOptions {
  json?: unknown
  body?: Buffer
  contentType?: string
  token?: string
  address?: string
  timeoutMs?: number
}

export class ApiClient {
  constructor (readonly baseUrl: string, private readonly timeoutMs = 60_000) {}

  url (path: string): string {
    return this.baseUrl.replace(/\/$/, '') + path
  }

  async call (method: string, path: string, opts: CallOptions = {}): Promise<ApiAnswer> {
    const headers: Record<string, string> = {}
    let body: string | Buffer | undefined
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(opts.json)
    } else if (opts.body !== undefined) {
      headers['content-type'] = opts.contentType ?? 'application/octet-stream'
      body = opts.body
    }
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`
    if (opts.address !== undefined) headers['x-forwarded-for'] = opts.address
    const res = await fetch(this.url(path), {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.timeout(opts.timeoutMs ?? this.timeoutMs)
    })
    const text = await res.text()
    let json: Record<string, unknown> | undefined
    try {
      const parsed: unknown = JSON.parse(text)
      if (typeof parsed === 'object' && parsed !== null) json = parsed as Record<string, unknown>
    } catch {
      json = undefined
    }
    return { status: res.status, json, text }
  }
}

export function describeAnswer (a: ApiAnswer): string {
  const message = typeof a.json?.message === 'string' ? a.json.message : a.text.slice(0, 120)
  return `HTTP ${a.status}${message === '' ? '' : `: ${message}`}`
}
