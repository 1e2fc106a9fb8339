/**
 * Helpers for the documents, ask and limits tests: users without the signup route (no bcrypt, no
 * signup limit), multipart bodies, uploads and SSE parsing.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { formData } from './form-data.js'
import type { TestUser } from './users.js'

export { createUser, type TestUser } from './users.js'

/** Per-route limits high enough for a test file's traffic from one address. */
export const GENEROUS_RATE_LIMITS = { RATE_LIMIT_DEFAULT: '100000 per hour' }

export interface FilePart {
  field?: string
  filename: string
  data: Buffer
  contentType?: string
}

/** A multipart/form-data body with one file part (and optional text fields before it). */
export function multipart (file: FilePart | null, fields: Record<string, string> = {}): { payload: Buffer, headers: Record<string, string> } {
  return formData(fields, file === null ? [] : [{ field: file.field ?? 'file', filename: file.filename, contentType: file.contentType ?? 'application/pdf', bytes: file.data }])
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
