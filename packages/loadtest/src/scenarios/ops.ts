import { multipartFile } from '@documind/harness'
import type { Expectation, Op } from '../runner.js'
import type { VirtualUser } from '../users.js'

// ---------------------------------------------------------------- expectations

export type Json = Record<string, unknown>
export const asObj = (json: unknown): Json | undefined => typeof json === 'object' && json !== null ? json as Json : undefined
export const msg = (json: unknown): string => {
  const m = asObj(json)?.message
  return typeof m === 'string' ? `: ${m.slice(0, 100)}` : ''
}

export const expectStatus = (...codes: number[]): Expectation => (status, json) =>
  codes.includes(status) ? true : `HTTP ${status} (expected ${codes.join(' or ')})${msg(json)}`

/** 200 with `success: true`, plus an optional check of the body. */
export const expectSuccess = (extra?: (body: Json) => true | string): Expectation => (status, json) => {
  if (status !== 200) return `HTTP ${status} (expected 200)${msg(json)}`
  const body = asObj(json)
  if (body?.success !== true) return `200 with success:${String(body?.success)}${msg(json)}`
  return extra === undefined ? true : extra(body)
}

export const expectToken = expectSuccess((b) => typeof b.token === 'string' ? true : '200 without a token')

/** The same expectation, or a 429 (a refusal the rate-limit model predicts; its count is checked separately). */
export const orLimited = (inner: Expectation): Expectation => (status, json, text) => status === 429 ? true : inner(status, json, text)

// ---------------------------------------------------------------- operations

export const jsonHeaders = (token?: string): Record<string, string> => ({
  'content-type': 'application/json',
  ...(token === undefined ? {} : { authorization: `Bearer ${token}` })
})

export function healthOp (address?: string, tag?: string): Op {
  return { name: 'GET /health', method: 'GET', path: '/health', expect: expectStatus(200), ...opt({ address, tag }) }
}

export function opt (fields: { address?: string | undefined, tag?: string | undefined, user?: number | undefined }): Partial<Op> {
  const out: Partial<Op> = {}
  if (fields.address !== undefined) out.address = fields.address
  if (fields.tag !== undefined) out.tag = fields.tag
  if (fields.user !== undefined) out.user = fields.user
  return out
}

export function signupOp (email: string, password: string, address: string | undefined, expect: Expectation, onToken?: (token: string) => void): Op {
  return {
    name: 'POST /auth/signup',
    method: 'POST',
    path: '/auth/signup',
    headers: jsonHeaders(),
    body: JSON.stringify({ email, password }),
    expect,
    ...(onToken === undefined
      ? {}
      : {
          onAnswer: (status: number, json: unknown) => {
            const token = asObj(json)?.token
            if (status === 200 && typeof token === 'string') onToken(token)
          }
        }),
    ...opt({ address })
  }
}

export function loginOp (email: string, password: string, address: string | undefined, tag: string, expect: Expectation, user?: number): Op {
  return {
    name: 'POST /auth/login',
    method: 'POST',
    path: '/auth/login',
    headers: jsonHeaders(),
    body: JSON.stringify({ email, password }),
    expect,
    ...opt({ address, tag, user })
  }
}

export function readOp (path: string, user: VirtualUser, expect: Expectation, tag?: string): Op {
  return { name: `GET ${path}`, method: 'GET', path, headers: jsonHeaders(user.token), expect, ...opt({ address: user.address, tag, user: user.index }) }
}

export function askOp (user: VirtualUser, question: string, address: string | undefined, expect: Expectation, tag?: string): Op {
  return {
    name: 'POST /ask',
    method: 'POST',
    path: '/ask',
    headers: jsonHeaders(user.token),
    body: JSON.stringify({ question, language: 'auto' }),
    expect,
    ...opt({ address, tag, user: user.index })
  }
}

export function uploadOp (user: VirtualUser, filename: string, pdf: Buffer, expect: Expectation, onAnswer?: Op['onAnswer']): Op {
  const part = multipartFile('file', filename, pdf)
  return {
    name: 'POST /upload',
    method: 'POST',
    path: '/upload',
    headers: { 'content-type': part.contentType, authorization: `Bearer ${user.token ?? ''}` },
    body: part.body,
    expect,
    ...(onAnswer === undefined ? {} : { onAnswer }),
    ...opt({ address: user.address, user: user.index })
  }
}

export function shuffle<T> (items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const tmp = items[i]!
    items[i] = items[j]!
    items[j] = tmp
  }
  return items
}
