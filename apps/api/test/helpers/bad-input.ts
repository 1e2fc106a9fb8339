import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import type pg from 'pg'
import { expect } from 'vitest'

/** Rate limits far above any test file's traffic, so 429s never mask what a request really gets. */
export const NO_RATE_LIMITS: Record<string, string> = {
  RATE_LIMIT_DEFAULT: '1000000 per day',
  RATE_LIMIT_SIGNUP: '1000000 per hour',
  RATE_LIMIT_LOGIN: '1000000 per minute',
  RATE_LIMIT_FORGOT_PASSWORD: '1000000 per hour',
  RATE_LIMIT_FORGOT_PASSWORD_PER_EMAIL: '1000000 per hour',
  RATE_LIMIT_RESET_PASSWORD: '1000000 per hour',
  RATE_LIMIT_CHANGE_PASSWORD: '1000000 per hour',
  RATE_LIMIT_CHANGE_EMAIL: '1000000 per hour',
  QUERY_LIMIT_PER_DAY: '1000000'
}

export interface SignedUpUser { id: string, email: string, token: string }

/** An account made through POST /auth/signup itself (password 'secret12'), so these tests also cover the real route. */
export async function signUp (app: FastifyInstance, email: string): Promise<SignedUpUser> {
  const res = await app.inject({ method: 'POST', url: '/auth/signup', payload: { email, password: 'secret12' } })
  expect(res.statusCode).toBe(200)
  const body = res.json() as { token: string, user: { id: string } }
  return { id: body.user.id, email, token: body.token }
}

/** Row count and content hash of every table (migrations bookkeeping and the UNLOGGED counters aside). */
export async function dbSnapshot (db: pg.Pool): Promise<Record<string, string>> {
  const { rows: tables } = await db.query<{ name: string }>(
    `SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public'
       AND tablename NOT IN ('pgmigrations', 'rate_limit_counters', 'kv_store') ORDER BY tablename`)
  const snapshot: Record<string, string> = {}
  for (const { name } of tables) {
    const { rows } = await db.query<{ n: string, h: string | null }>(
      `SELECT count(*) AS n, md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))) AS h FROM ${name} t`)
    snapshot[name] = `${rows[0]!.n}:${rows[0]!.h ?? ''}`
  }
  return snapshot
}

export interface HostileCase {
  name: string
  /** Built lazily: fixtures (tokens, ids) exist only once beforeAll ran. */
  request: () => InjectOptions | Promise<InjectOptions>
  /** The exact status the service must answer. */
  status: number
  /** Expected `message` (or `error` for the auth decorator's 401s). */
  message?: string | RegExp
  /** The request is refused, so the database must be byte-for-byte the same afterwards (default true). */
  unchanged?: boolean
}

let nextAddress = 0
/** A fresh client address per request, so even the per-address buckets stay untouched. */
export function freshAddress (): string {
  nextAddress++
  return `198.18.${Math.floor(nextAddress / 250) % 250}.${(nextAddress % 250) + 1}`
}

/**
 * Sends one hostile request and checks what every refusal must look like: the expected 4xx (or the
 * 200 `{success:false}` soft failures), a JSON body with `success:false` or the decorator's `{error}`,
 * never a 5xx, and no change to any table.
 */
export async function runHostileCase (app: FastifyInstance, db: pg.Pool, c: HostileCase): Promise<LightMyRequestResponse> {
  const before = c.unchanged === false ? undefined : await dbSnapshot(db)
  const options = await c.request()
  const res = await app.inject({ remoteAddress: freshAddress(), ...options })
  expect(res.statusCode, res.body.slice(0, 500)).toBeLessThan(500)
  expect(res.statusCode, res.body.slice(0, 500)).toBe(c.status)
  expect(res.headers['content-type'], res.body.slice(0, 200)).toMatch(/^application\/json/)
  if (options.method !== 'HEAD') {
    const body = res.json() as { success?: unknown, message?: unknown, error?: unknown }
    if (body.success !== undefined || res.statusCode === 200) expect(body.success).toBe(false)
    else expect(typeof body.error).toBe('string')
    const text = typeof body.message === 'string' ? body.message : body.error
    expect(typeof text).toBe('string')
    if (c.message !== undefined) {
      if (typeof c.message === 'string') expect(text).toBe(c.message)
      else expect(text).toMatch(c.message)
    }
  }
  if (before !== undefined) expect(await dbSnapshot(db)).toEqual(before)
  return res
}
