/**
 * Helpers for the documents, ask and limits tests: users without the signup route (no bcrypt, no
 * signup limit), multipart bodies, uploads and SSE parsing.
 */
import { randomBytes } from 'node:crypto'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'

export interface TestUser {
  id: string
  email: string
  token: string
  headers: { authorization: string }
}

/** Per-route limits high enough for a test file's traffic from one address. */
export const GENEROUS_RATE_LIMITS = { RATE_LIMIT_DEFAULT: '100000 per hour' }

export async function createUser (app: FastifyInstance, label = 'user'): Promise<TestUser> {
  const email = `${label}-${randomBytes(4).toString('hex')}@example.com`
  const row = await app.usersRepository.create({ email, passwordHash: 'not-a-hash', role: null, occupation: null, institution: null })
  if (row === undefined) throw new Error('user not created')
  const token = app.accessTokens.issue({ id: row.id, email })
  return { id: row.id, email, token, headers: { authorization: `Bearer ${token}` } }
}

export interface FilePart {
  field?: string
  filename: string
  data: Buffer
  contentType?: string
}

/** A multipart/form-data body with one file part (and optional text fields before it). */
export function multipart (file: FilePart | null, fields: Record<string, string> = {}): { payload: Buffer, headers: Record<string, string> } {
  const boundary = `----documind${randomBytes(8).toString('hex')}`
  const parts: Buffer[] = []
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`))
  }
  if (file !== null) {
    parts.push(Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${file.field ?? 'file'}"; filename="${file.filename}"\r\n` +
      `Content-Type: ${file.contentType ?? 'application/pdf'}\r\n\r\n`))
    parts.push(file.data, Buffer.from('\r\n'))
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`))
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

export async function upload (app: FastifyInstance, user: TestUser, filename: string, data: Buffer): Promise<LightMyRequestResponse> {
  const body = multipart({ filename, data })
  return await app.inject({ method: 'POST', url: '/upload', payload: body.payload, headers: { ...user.headers, ...body.headers } })
}

export async function ask (app: FastifyInstance, user: TestUser, question: string, documentName: string | null = null, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return await app.inject({
    method: 'POST',
    url: '/ask',
    payload: { question, document_name: documentName, language: 'auto' },
    headers: { ...user.headers, ...headers }
  })
}

export interface SseEvent {
  event: string
  data: unknown
}

/** Parses a complete text/event-stream body. */
export function parseSse (body: string): SseEvent[] {
  return body.split('\n\n').filter((block) => block.trim() !== '').map((block) => {
    let event = 'message'
    const data: string[] = []
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7)
      else if (line.startsWith('data: ')) data.push(line.slice(6))
    }
    return { event, data: JSON.parse(data.join('\n')) as unknown }
  })
}

/** Three pages on unrelated topics, so a question names exactly one page. */
export const THREE_TOPIC_PAGES = [
  'Orchard handbook. The apple orchard is irrigated every Tuesday morning. Pruning happens in late winter before buds open.',
  'Volcano field notes. The Krakatoa eruption of 1883 destroyed most of the island. Its explosion was heard three thousand miles away.',
  'Lighthouse keeping. The lighthouse lamp must be trimmed at dusk. Keepers logged every passing steamship in the ledger.'
]
