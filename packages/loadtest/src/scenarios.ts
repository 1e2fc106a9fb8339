import { performance } from 'node:perf_hooks'
import { corpus, multipartFile } from '@documind/harness'
import type { ApiClient } from './api.js'
import type { LoadTestConfig } from './config.js'
import { type Check, check, type Sample, type ScenarioName } from './model.js'
import { buildScenarioResult, type ScenarioRun } from './results.js'
import { type Expectation, type Op, type Progress, type RunOutcome, runOps } from './runner.js'
import { formatBytes } from './units.js'
import { LIMITS } from './limits.js'
import { type AddressBudget, type UserPool, type VirtualUser } from './users.js'

export interface ScenarioContext {
  config: LoadTestConfig
  baseUrl: string
  api: ApiClient
  pool: UserPool
  budget: AddressBudget
  /** Per-user X-Forwarded-For addresses are sent and honoured by the target. */
  perUser: boolean
  /** Testing a deployment given with --target (not the local stack). */
  remote: boolean
  runId: string
  signal: AbortSignal
  log: (line: string) => void
  onProgress: (scenario: ScenarioName, p: Progress) => void
  /** The PDF of --upload-size, generated once per run. */
  uploadPdf: () => Promise<Buffer>
}

export interface ScenarioDefinition {
  name: ScenarioName
  title: string
  description: string
  run: (ctx: ScenarioContext) => Promise<ScenarioRun>
}

// ---------------------------------------------------------------- expectations

type Json = Record<string, unknown>
const asObj = (json: unknown): Json | undefined => typeof json === 'object' && json !== null ? json as Json : undefined
const msg = (json: unknown): string => {
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

const jsonHeaders = (token?: string): Record<string, string> => ({
  'content-type': 'application/json',
  ...(token === undefined ? {} : { authorization: `Bearer ${token}` })
})

export function healthOp (address?: string, tag?: string): Op {
  return { name: 'GET /health', method: 'GET', path: '/health', expect: expectStatus(200), ...opt({ address, tag }) }
}

function opt (fields: { address?: string | undefined, tag?: string | undefined, user?: number | undefined }): Partial<Op> {
  const out: Partial<Op> = {}
  if (fields.address !== undefined) out.address = fields.address
  if (fields.tag !== undefined) out.tag = fields.tag
  if (fields.user !== undefined) out.user = fields.user
  return out
}

function signupOp (email: string, password: string, address: string | undefined, expect: Expectation, onToken?: (token: string) => void): Op {
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

function loginOp (email: string, password: string, address: string | undefined, tag: string, expect: Expectation, user?: number): Op {
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

function readOp (path: string, user: VirtualUser, expect: Expectation, tag?: string): Op {
  return { name: `GET ${path}`, method: 'GET', path, headers: jsonHeaders(user.token), expect, ...opt({ address: user.address, tag, user: user.index }) }
}

function askOp (user: VirtualUser, question: string, address: string | undefined, expect: Expectation, tag?: string): Op {
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

function uploadOp (user: VirtualUser, filename: string, pdf: Buffer, expect: Expectation, onAnswer?: Op['onAnswer']): Op {
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

// ---------------------------------------------------------------- common checks

export function errorChecks (scenario: string, samples: readonly Sample[]): Check[] {
  const s5xx = samples.filter((s) => s.status >= 500)
  const noAnswer = samples.filter((s) => s.status === 0)
  const codes = [...new Set(s5xx.map((s) => s.status))].join(', ')
  const reasons = [...new Set(noAnswer.map((s) => s.error ?? 'no response'))].slice(0, 3).join('; ')
  return [
    check(`${scenario}: no 5xx answers`, s5xx.length === 0,
      s5xx.length === 0 ? `0 of ${samples.length}` : `${s5xx.length} of ${samples.length} answered ${codes} (${s5xx[0]!.op})`, 'errors', scenario),
    check(`${scenario}: no connection errors or timeouts`, noAnswer.length === 0,
      noAnswer.length === 0 ? `every one of ${samples.length} requests was answered` : `${noAnswer.length} requests got no answer (${reasons})`, 'errors', scenario)
  ]
}

/** Reason prefix of an answer that refused work because the server is at capacity (load shedding). */
export const LOAD_SHED = 'load shed: '

/** "The server is busy ... try again" with success:false: the API's deliberate back-pressure. */
function isBusy (status: number, json: unknown): boolean {
  const m = asObj(json)?.message
  return (status === 200 || status === 503) && asObj(json)?.success === false && typeof m === 'string' && /\bbusy\b/i.test(m)
}

/** "3 x 200, 27 x 429" */
export function statusBreakdown (samples: readonly Sample[]): string {
  const codes = new Map<number, number>()
  for (const s of samples) codes.set(s.status, (codes.get(s.status) ?? 0) + 1)
  if (codes.size === 0) return 'no requests'
  return [...codes].sort((a, b) => a[0] - b[0]).map(([c, n]) => `${n} x ${c === 0 ? 'no answer' : c}`).join(', ')
}

/**
 * A check that every answer of some group matched its expectation. Requests without an answer are
 * checked apart (errorChecks), and so is load shedding (loadShedCheck).
 */
function expectationCheck (scenario: string, name: string, samples: readonly Sample[]): Check {
  const bad = samples.filter((s) => !s.ok && s.status !== 0 && s.reason?.startsWith(LOAD_SHED) !== true)
  const reasons = new Map<string, number>()
  for (const s of bad) reasons.set(s.reason ?? `HTTP ${s.status}`, (reasons.get(s.reason ?? `HTTP ${s.status}`) ?? 0) + 1)
  const top = [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([r, n]) => `${n} x ${r}`).join('; ')
  return check(`${scenario}: ${name}`, bad.length === 0,
    bad.length === 0 ? statusBreakdown(samples) : `${bad.length} of ${samples.length} unexpected: ${top}`,
    'expectation', scenario)
}

/** A 5xx or no answer: the request may or may not have been counted by a limit. */
const unverifiable = (s: Sample): boolean => s.status === 0 || s.status >= 500

/** Answers refused as "busy": failures for the user, but deliberate back-pressure, so a warning. */
function loadShedCheck (scenario: string, samples: readonly Sample[]): Check[] {
  const shed = samples.filter((s) => s.reason?.startsWith(LOAD_SHED) === true)
  if (shed.length === 0) return []
  return [check(`${scenario}: no load shedding`, 'warn',
    `${shed.length} of ${samples.length} requests were refused because the server was busy ("${shed[0]!.reason!.slice(LOAD_SHED.length)}"): ` +
    'its capacity is below this concurrency (they count as failed in the success rate)', 'expectation', scenario)]
}

const countBy = <K>(items: readonly Sample[], key: (s: Sample) => K | undefined): Map<K, Sample[]> => {
  const m = new Map<K, Sample[]>()
  for (const s of items) {
    const k = key(s)
    if (k === undefined) continue
    const list = m.get(k)
    if (list === undefined) m.set(k, [s])
    else list.push(s)
  }
  return m
}

// ---------------------------------------------------------------- helpers

interface Phase {
  ops: Op[]
  connections: number
}

async function measured (
  ctx: ScenarioContext,
  name: ScenarioName,
  phase: Phase | { next: () => Op, durationMs: number, connections: number, rate?: number }
): Promise<RunOutcome> {
  return runOps({
    baseUrl: ctx.baseUrl,
    connections: phase.connections,
    ...('ops' in phase
      ? { ops: phase.ops }
      : { next: phase.next, durationMs: phase.durationMs, ...(phase.rate === undefined ? {} : { overallRate: phase.rate }) }),
    timeoutS: ctx.config.timeoutS,
    signal: ctx.signal,
    onProgress: (p) => ctx.onProgress(name, p)
  })
}

function emptyOutcome (): RunOutcome {
  return { samples: [], startedAt: new Date(), durationMs: 0, timeouts: 0, unfinished: 0 }
}

const modeNote = (ctx: ScenarioContext): string => ctx.perUser
  ? 'per-user XFF: every virtual user sends its own X-Forwarded-For address'
  : 'single address: every request comes from the load generator\'s own address'

/** Users that can act with a token (single-address mode: the few that exist). */
async function singleAddressUsers (ctx: ScenarioContext): Promise<VirtualUser[]> {
  const known = ctx.pool.users.filter((u) => u.address === undefined)
  return ctx.pool.ensureTokens(known)
}

// ---------------------------------------------------------------- scenarios

const health: ScenarioDefinition = {
  name: 'health',
  title: 'Health check load',
  description: 'GET /health, all requests concurrent: baseline server performance and connection handling. Expect 200.',
  run: async (ctx) => {
    const { requests, connections } = ctx.config.health
    const ops = Array.from({ length: requests }, () => healthOp(ctx.pool.newAddress()))
    const outcome = await measured(ctx, 'health', { ops, connections })
    const checks = [
      expectationCheck('health', 'every request answered 200', outcome.samples),
      ...errorChecks('health', outcome.samples)
    ]
    return buildScenarioResult({ ...meta(health), setupMs: 0, checks, notes: [], settings: { requests, connections } }, outcome)
  }
}

const signups: ScenarioDefinition = {
  name: 'signups',
  title: 'Concurrent signups from one address',
  description: 'POST /auth/signup with unique emails, all concurrent from ONE client address: exactly 3 succeed (200), the rest 429 (3 per hour per address).',
  run: async (ctx) => {
    const n = ctx.config.signups.requests
    const limit = LIMITS.signup.max
    const address = ctx.pool.newAddress()
    const created: VirtualUser[] = []
    const ops = Array.from({ length: n }, () => {
      const email = ctx.pool.newEmail('signup')
      ctx.budget.use(address, 'signup')
      return signupOp(email, 'LoadTest-Passw0rd', address, orLimited(expectToken), (token) => {
        created.push(ctx.pool.adopt({ email, password: 'LoadTest-Passw0rd', address, token, docs: 0, queries: 0, source: 'signups-scenario', label: 'signup' }))
      })
    })
    const outcome = await measured(ctx, 'signups', { ops, connections: n })
    const accepted = outcome.samples.filter((s) => s.status === 200 && s.ok).length
    const limited = outcome.samples.filter((s) => s.status === 429).length
    const broken = outcome.samples.filter(unverifiable).length
    const notes = [modeNote(ctx), `client address: ${address ?? 'the load generator\'s own'}`]
    let status: Check['status']
    let detail = `${accepted} accepted, ${limited} refused with 429, ${n - accepted - limited} other (expected ${limit} and ${n - limit})`
    if (accepted === limit && limited + broken === n - limit) {
      status = 'pass'
    } else if (accepted > limit) {
      status = 'fail'
      detail += `: more than ${limit} signups per hour were accepted from one address`
    } else if (broken > 0) {
      status = 'warn'
      detail += `: not verifiable, ${broken} requests got a 5xx or no answer (see the error checks)`
    } else if (!ctx.perUser && accepted + limited === n) {
      status = 'warn'
      detail += ': not verifiable in single-address mode. This address had already used ' +
        `${limit - accepted} of its ${limit} signups this hour (an earlier run within the hour?), and the target does not ` +
        'take the client address from X-Forwarded-For. The limit is enforced, but its exact size cannot be checked until ' +
        'the hour has passed, or run with per-user XFF against a target whose TRUST_PROXY lists this machine.'
      notes.push('signup quota of this address was partly used before this run (see the check)')
    } else {
      status = 'fail'
    }
    const checks = [
      check(`signups: exactly ${limit} of ${n} accepted from one address (${limit} per hour)`, status, detail, 'rate-limit', 'signups'),
      expectationCheck('signups', 'every answer is 200 with a token or 429', outcome.samples),
      ...errorChecks('signups', outcome.samples)
    ]
    return buildScenarioResult({ ...meta(signups), setupMs: 0, checks, notes, settings: { requests: n, connections: n, address: address ?? 'own' } }, outcome)
  }
}

const logins: ScenarioDefinition = {
  name: 'logins',
  title: 'Concurrent logins',
  description: 'POST /auth/login, valid and invalid (wrong password) credentials of existing users, all concurrent. Valid -> 200, invalid -> 401, beyond 5 per minute per address -> 429.',
  run: async (ctx) => {
    const { attempts, perAddress } = ctx.config.logins
    const limit = LIMITS.login.max
    const t0 = performance.now()
    const notes = [modeNote(ctx)]
    const ops: Op[] = []
    const valid = orLimited(expectToken)
    const invalid = orLimited(expectStatus(401))
    let users: VirtualUser[]
    if (ctx.perUser) {
      users = await ctx.pool.create(Math.ceil(attempts / perAddress), 'login')
      notes.push(`${users.length} users, each attempting ${perAddress} logins (half valid, half wrong password) from its own address`)
      for (let i = 0; i < attempts; i++) {
        const u = users[Math.floor(i / perAddress)]!
        const isValid = (i % perAddress) % 2 === 0
        ctx.budget.use(u.address, 'login')
        ops.push(loginOp(u.email, isValid ? u.password : `${u.password}-wrong`, u.address, isValid ? 'valid' : 'invalid', isValid ? valid : invalid, u.index))
      }
    } else {
      users = ctx.pool.users.filter((u) => u.address === undefined)
      if (users.length === 0) {
        notes.push('no valid credentials available (pass --login-email/--login-password, or run the signups scenario first while it can still sign up): every attempt uses an unknown email')
      }
      for (let i = 0; i < attempts; i++) {
        ctx.budget.use(undefined, 'login')
        const u = users.length > 0 ? users[i % users.length]! : undefined
        if (u === undefined) {
          ops.push(loginOp(ctx.pool.newEmail('nobody'), 'LoadTest-Passw0rd', undefined, 'invalid', invalid))
        } else {
          const isValid = i % 2 === 0
          ops.push(loginOp(u.email, isValid ? u.password : `${u.password}-wrong`, undefined, isValid ? 'valid' : 'invalid', isValid ? valid : invalid, u.index))
        }
      }
    }
    const setupMs = performance.now() - t0
    const outcome = await measured(ctx, 'logins', { ops: shuffle(ops), connections: attempts })
    const samples = outcome.samples
    const checks: Check[] = []

    // Exactness: per address, exactly `limit` answers that are not 429 within the minute.
    const byAddress = countBy(samples, (s) => s.address ?? 'own address')
    const offenders: string[] = []
    let under = 0
    let skipped = 0
    for (const [address, list] of byAddress) {
      // Answers that went through the limiter: 200 or 401 (4xx other than 429).
      const passed = list.filter((s) => s.status !== 429 && s.status >= 200 && s.status < 500).length
      const expected = Math.min(limit, list.length)
      if (passed > expected) {
        offenders.push(`${address}: ${passed} answers that were not 429`)
      } else if (list.some(unverifiable)) {
        skipped++
      } else if (passed < expected) {
        under++
        offenders.push(`${address}: only ${passed} answers before 429`)
      }
    }
    const slow = outcome.durationMs > 55_000
    const verified = byAddress.size - skipped
    let status: Check['status'] = offenders.length === 0 ? (verified > 0 ? 'pass' : 'warn') : 'fail'
    let detail = offenders.length === 0
      ? `${verified} address(es): each got exactly ${limit} answers (200/401) and 429 for the rest`
      : offenders.slice(0, 4).join('; ')
    if (skipped > 0) detail += `; ${skipped} address(es) not verifiable (a 5xx or no answer, see the error checks)`
    if (offenders.length > 0 && !ctx.perUser && under === offenders.length) {
      status = 'warn'
      detail += '. In single-address mode the address may have used part of its minute before (an earlier run, or another client); not verifiable from here.'
    }
    if (slow && status === 'fail') detail += ' (the attempts spread over more than a minute, so a new window may have opened)'
    checks.push(check(`logins: exactly ${limit} answers per address per minute, then 429`, status, detail, 'rate-limit', 'logins'))

    const validSamples = samples.filter((s) => s.tag === 'valid')
    const invalidSamples = samples.filter((s) => s.tag === 'invalid')
    if (validSamples.length > 0) {
      checks.push(expectationCheck('logins', 'valid credentials -> 200 (or 429 beyond the limit)', validSamples))
    } else {
      checks.push(check('logins: valid credentials -> 200', 'warn', 'no valid credentials were available, so successful logins were not tested', 'expectation', 'logins'))
    }
    checks.push(expectationCheck('logins', 'invalid credentials -> 401 (or 429 beyond the limit)', invalidSamples))
    checks.push(...errorChecks('logins', samples))
    return buildScenarioResult({
      ...meta(logins),
      setupMs,
      checks,
      notes,
      settings: { attempts, perAddress: ctx.perUser ? perAddress : attempts, connections: attempts, users: users.length }
    }, outcome)
  }
}

const stress: ScenarioDefinition = {
  name: 'stress',
  title: 'Stress test: mixed operations',
  description: 'All concurrent: 40% GET /health, 30% login, 20% signup, 10% authenticated reads (GET /auth/me, /documents, /limits). Expect no 5xx and > 85% success.',
  run: async (ctx) => {
    const n = ctx.config.stress.operations
    const t0 = performance.now()
    const nHealth = Math.round(n * 0.4)
    const nLogin = Math.round(n * 0.3)
    const nSignup = Math.round(n * 0.2)
    const nRead = n - nHealth - nLogin - nSignup
    const notes = [modeNote(ctx)]
    const ops: Op[] = []
    const readPaths = ['/auth/me', '/documents', '/limits']
    let users: VirtualUser[]
    if (ctx.perUser) {
      // Returning users: each may log in `limit` times a minute from its own address.
      users = await ctx.pool.create(Math.max(1, Math.ceil(nLogin / LIMITS.login.max)), 'stress')
      for (let i = 0; i < nLogin; i++) {
        const u = users[Math.floor(i / LIMITS.login.max) % users.length]!
        ctx.budget.use(u.address, 'login')
        ops.push(loginOp(u.email, u.password, u.address, 'login', expectToken, u.index))
      }
      for (let i = 0; i < nSignup; i++) {
        const email = ctx.pool.newEmail('stress-signup')
        const address = ctx.pool.newAddress()
        ctx.budget.use(address, 'signup')
        ops.push(signupOp(email, 'LoadTest-Passw0rd', address, expectToken, (token) => {
          ctx.pool.adopt({ email, password: 'LoadTest-Passw0rd', address, token, docs: 0, queries: 0, source: 'setup', label: 'stress-signup' })
        }))
      }
      notes.push(`${users.length} returning users log in ${LIMITS.login.max} times each from their own address; every signup comes from a new address`)
    } else {
      users = await singleAddressUsers(ctx)
      for (let i = 0; i < nLogin; i++) {
        const u = users[i % Math.max(1, users.length)]
        ctx.budget.use(undefined, 'login')
        ops.push(u === undefined
          ? loginOp(ctx.pool.newEmail('nobody'), 'LoadTest-Passw0rd', undefined, 'login', orLimited(expectStatus(401)))
          : loginOp(u.email, u.password, undefined, 'login', orLimited(expectToken), u.index))
      }
      for (let i = 0; i < nSignup; i++) {
        ctx.budget.use(undefined, 'signup')
        ops.push(signupOp(ctx.pool.newEmail('stress-signup'), 'LoadTest-Passw0rd', undefined, orLimited(expectToken)))
      }
      notes.push('single address: logins beyond 5 per minute and signups beyond 3 per hour are expected 429s')
    }
    const readers = users.filter((u) => u.token !== undefined)
    for (let i = 0; i < nRead; i++) {
      const u = readers[i % Math.max(1, readers.length)]
      const path = readPaths[i % readPaths.length]!
      if (u === undefined) {
        ops.push(healthOp(undefined, 'read-substitute'))
        continue
      }
      if (path === '/limits') u.queries++
      ctx.budget.use(u.address, path)
      ops.push(readOp(path, u, ctx.perUser ? expectSuccess() : orLimited(expectSuccess()), 'read'))
    }
    if (readers.length === 0 && nRead > 0) notes.push(`no signed-in user available: the ${nRead} authenticated reads were replaced by health checks`)
    for (let i = 0; i < nHealth; i++) ops.push(healthOp(ctx.pool.newAddress(), 'health'))
    const setupMs = performance.now() - t0
    const outcome = await measured(ctx, 'stress', { ops: shuffle(ops), connections: n })
    const successful = outcome.samples.filter((s) => s.ok).length
    const rate = outcome.samples.length === 0 ? 0 : (successful / outcome.samples.length) * 100
    const checks = [
      check('stress: success rate > 85%', rate > 85, `${rate.toFixed(1)}% (${successful} of ${outcome.samples.length} as expected)`, 'expectation', 'stress'),
      ...errorChecks('stress', outcome.samples)
    ]
    return buildScenarioResult({
      ...meta(stress),
      setupMs,
      checks,
      notes,
      settings: { operations: n, connections: n, health: nHealth, logins: nLogin, signups: nSignup, reads: nRead }
    }, outcome)
  }
}

const QUERY_BUDGET = LIMITS.queriesPerDay - 5
const ENDPOINT_MARGIN = 5

const query: ScenarioDefinition = {
  name: 'query',
  title: 'Concurrent questions (POST /ask)',
  description: 'POST /ask {question, language:"auto"} with a Bearer token, spread over users who each uploaded a PDF first. Expect 200 with an answer; a user\'s 51st question of the day -> 429.',
  run: async (ctx) => {
    const { questions, perUser, quotaProbe } = ctx.config.query
    const t0 = performance.now()
    const notes = [modeNote(ctx)]
    if (!ctx.remote) notes.push(`groq-mock answers after ${ctx.config.llmLatencyMs} ms, so no answer can be faster`)
    const ops: Op[] = []
    const answered = expectSuccess((b) => typeof b.answer === 'string' && b.answer !== '' ? true : '200 without an answer')
    let users: VirtualUser[]
    let probeUser: VirtualUser | undefined
    if (ctx.perUser) {
      users = await ctx.pool.create(Math.max(1, Math.ceil(questions / perUser)), 'query')
      if (quotaProbe) probeUser = (await ctx.pool.create(1, 'quota'))[0]
      await ctx.pool.ensureDocument(probeUser === undefined ? users : [...users, probeUser])
    } else {
      users = await singleAddressUsers(ctx)
      await ctx.pool.ensureDocument(users.filter((u) => u.docs === 0).slice(0, 1))
      users = users.filter((u) => u.docs > 0)
    }
    let planned = 0
    for (let i = 0; planned < questions && users.length > 0 && i < questions * 2; i++) {
      const u = users[i % users.length]!
      if (u.queries >= QUERY_BUDGET || !ctx.budget.canUse(u.address, '/ask', LIMITS.endpoint, ENDPOINT_MARGIN)) {
        if (users.every((x) => x.queries >= QUERY_BUDGET || !ctx.budget.canUse(x.address, '/ask', LIMITS.endpoint, ENDPOINT_MARGIN))) break
        continue
      }
      u.queries++
      ctx.budget.use(u.address, '/ask')
      const qs = corpus(u.index).questions
      const question = `${qs[planned % qs.length]!} (question ${planned + 1} of run ${ctx.runId})`
      ops.push(askOp(u, question, u.address, ctx.perUser ? answered : orLimited(answered), 'question'))
      planned++
    }
    if (planned < questions) notes.push(`only ${planned} of ${questions} questions fit the per-user quota and per-address limits of the available users`)
    if (probeUser !== undefined) {
      // One user asks quota + 1 questions, each from a different address so that only the per-user
      // daily quota (not the per-address /ask limit) can refuse them.
      for (let i = 0; i <= LIMITS.queriesPerDay; i++) {
        const address = ctx.pool.newAddress()
        ctx.budget.use(address, '/ask')
        probeUser.queries++
        ops.push(askOp(probeUser, `${corpus(1).questions[i % 8]!} (quota probe ${i + 1})`, address, (status, json, text) => {
          if (status === 429) return asObj(json)?.limit_reached === true ? true : `429 without limit_reached${msg(json)}`
          return answered(status, json, text)
        }, 'quota'))
      }
      notes.push(`quota probe: user ${probeUser.email} asks ${LIMITS.queriesPerDay + 1} questions`)
    }
    const setupMs = performance.now() - t0
    const connections = Math.max(1, Math.min(ctx.config.connections, ops.length))
    const outcome = ops.length === 0 ? emptyOutcome() : await measured(ctx, 'query', { ops: shuffle(ops), connections })
    const main = outcome.samples.filter((s) => s.tag === 'question')
    const checks: Check[] = []
    if (ops.length === 0) {
      checks.push(check('query: questions answered', 'warn', 'skipped: no signed-in user with a document is available in single-address mode (pass --login-email/--login-password)', 'expectation', 'query'))
    } else {
      checks.push(expectationCheck('query', 'every question answered (200, success:true, an answer)', main))
    }
    const probe = outcome.samples.filter((s) => s.tag === 'quota')
    if (probeUser !== undefined) {
      const passed = probe.filter((s) => s.status !== 429 && s.status >= 200 && s.status < 500).length
      const limited = probe.filter((s) => s.status === 429).length
      const broken = probe.filter(unverifiable).length
      const ok = passed === LIMITS.queriesPerDay && limited === 1 && probe.every((s) => s.ok)
      const status: Check['status'] = ok ? 'pass' : broken > 0 && passed <= LIMITS.queriesPerDay ? 'warn' : 'fail'
      checks.push(check(`query: daily quota exact (${LIMITS.queriesPerDay} questions per user, then 429)`, status,
        `${passed} answered, ${limited} x 429` + (ok ? '' : ` (expected ${LIMITS.queriesPerDay} and 1); ${expectationCheck('query', '', probe).detail}`),
        'rate-limit', 'query'))
    } else if (quotaProbe) {
      checks.push(check(`query: daily quota exact (${LIMITS.queriesPerDay} per user)`, 'skip', 'needs per-user X-Forwarded-For addresses', 'rate-limit', 'query'))
    }
    checks.push(...errorChecks('query', outcome.samples))
    return buildScenarioResult({
      ...meta(query),
      setupMs,
      checks,
      notes,
      settings: { questions: planned, users: users.length, connections, quotaProbe: probeUser !== undefined, llmLatencyMs: ctx.remote ? 'real LLM' : ctx.config.llmLatencyMs } as Record<string, string | number | boolean>
    }, outcome)
  }
}

const MAX_FILE_BYTES = 10 * 1024 * 1024

const upload: ScenarioDefinition = {
  name: 'upload',
  title: 'Concurrent PDF uploads',
  description: 'POST /upload (multipart field "file") of generated PDFs, all concurrent, spread over users: each user sends 6, so exactly 5 are stored and one is refused with 403 (5 documents per user).',
  run: async (ctx) => {
    const t0 = performance.now()
    const size = ctx.config.upload.sizeBytes
    const pdf = await ctx.uploadPdf()
    const tooLarge = pdf.length > MAX_FILE_BYTES
    const notes = [modeNote(ctx), `PDF size ${formatBytes(pdf.length)} (requested ${formatBytes(size)})`]
    if (tooLarge) notes.push('the file is larger than the 10 MiB per-file limit: every upload must be refused with 413')
    const maxDocs = LIMITS.documentsPerUser
    let users: VirtualUser[]
    if (ctx.perUser) {
      users = await ctx.pool.create(ctx.config.upload.users, 'upload')
    } else {
      users = await singleAddressUsers(ctx)
    }
    const expectUpload: Expectation = tooLarge
      ? (status, json) => status === 413 ? true : `HTTP ${status} (expected 413 for a file over 10 MiB)${msg(json)}`
      : (status, json, text) => {
          if (status === 403) return asObj(json)?.limit_reached === true ? true : `403 without limit_reached${msg(json)}`
          const verdict = expectSuccess()(status, json, text)
          return verdict !== true && isBusy(status, json) ? `${LOAD_SHED}${msg(json).slice(2)}` : verdict
        }
    const ops: Op[] = []
    let fileNo = 0
    for (const u of users) {
      const attempts = Math.max(0, maxDocs - u.docs) + 1
      for (let j = 0; j < attempts; j++) {
        if (!ctx.budget.canUse(u.address, '/upload', LIMITS.endpoint, ENDPOINT_MARGIN)) break
        ctx.budget.use(u.address, '/upload')
        ops.push(uploadOp(u, `lt-${ctx.runId}-u${u.index}-doc${++fileNo}.pdf`, pdf, ctx.perUser ? expectUpload : orLimited(expectUpload), (status, json) => {
          if (status === 200 && asObj(json)?.success === true) u.docs++
        }))
      }
    }
    const setupMs = performance.now() - t0
    const connections = Math.max(1, Math.min(ctx.config.connections, ops.length))
    const outcome = ops.length === 0 ? emptyOutcome() : await measured(ctx, 'upload', { ops: shuffle(ops), connections })
    const checks: Check[] = []
    if (ops.length === 0) {
      checks.push(check('upload: uploads accepted', 'warn', 'skipped: no signed-in user available in single-address mode (pass --login-email/--login-password)', 'expectation', 'upload'))
    } else {
      checks.push(expectationCheck('upload', tooLarge ? 'every upload refused with 413' : 'every upload stored (200, success:true) or refused at the document limit (403)', outcome.samples))
    }
    if (!tooLarge && ctx.perUser && ops.length > 0) {
      const byUser = countBy(outcome.samples, (s) => s.user)
      const offenders: string[] = []
      let skipped = 0
      for (const [user, list] of byUser) {
        const stored = list.filter((s) => s.status === 200 && s.success === true).length
        const refused = list.filter((s) => s.status === 403).length
        if (stored > maxDocs) {
          offenders.push(`user ${user}: ${stored} documents stored (limit ${maxDocs})`)
        } else if (stored + refused < list.length) {
          // Some uploads failed for another reason (busy, 5xx...): the limit was not reached.
          skipped++
        } else if (stored !== maxDocs || refused !== list.length - maxDocs) {
          offenders.push(`user ${user}: ${stored} stored, ${refused} x 403 of ${list.length}`)
        }
      }
      const verified = byUser.size - skipped
      checks.push(check(`upload: document limit exact (${maxDocs} per user, 6th -> 403, concurrent uploads)`,
        offenders.length > 0 ? 'fail' : verified > 0 ? 'pass' : 'warn',
        (offenders.length === 0 ? `${verified} users: each stored exactly ${maxDocs} and got 403 for the 6th` : offenders.slice(0, 4).join('; ')) +
          (skipped > 0 ? `; ${skipped} users not verifiable (some uploads failed for another reason, see above)` : ''),
        'rate-limit', 'upload'))
    }
    checks.push(...loadShedCheck('upload', outcome.samples))
    checks.push(...errorChecks('upload', outcome.samples))
    return buildScenarioResult({
      ...meta(upload),
      setupMs,
      checks,
      notes,
      settings: { users: users.length, uploads: ops.length, connections, sizeBytes: pdf.length }
    }, outcome)
  }
}

type SustainedKind = 'health' | 'documents' | 'ask' | 'limits' | 'login'
/** Share of each request kind; a user logs in at most once a minute (a new session), so logins stay rare. */
const SUSTAINED_MIX: Array<[SustainedKind, number]> = [['health', 35], ['documents', 25], ['ask', 20], ['limits', 15], ['login', 5]]

const sustained: ScenarioDefinition = {
  name: 'sustained',
  title: 'Sustained realistic traffic',
  description: 'A steady request rate (--rate) for --duration from many users (--users), each with its own address: 35% health polls, 25% GET /documents, 20% POST /ask, 15% GET /limits, 5% logins (at most one per user and minute). Every request stays within the per-user and per-address limits, so any 429 is unexpected.',
  run: async (ctx) => {
    const { durationMs, users: wanted, rate } = ctx.config.sustained
    const t0 = performance.now()
    const notes = [modeNote(ctx)]
    let vus: VirtualUser[]
    if (ctx.perUser) {
      const sharedAddresses = new Set(ctx.pool.users.filter((u) => u.source === 'signups-scenario').map((u) => u.address))
      const now = Date.now()
      // Prefer users whose login window is fresh (the login and stress users just spent theirs).
      vus = ctx.pool.users
        .filter((u) => u.token !== undefined && u.address !== undefined && !sharedAddresses.has(u.address) && u.queries < QUERY_BUDGET - 10)
        .sort((a, b) => ctx.budget.used(a.address, 'login', 65_000, now) - ctx.budget.used(b.address, 'login', 65_000, now) || a.queries - b.queries)
        .slice(0, wanted)
      const reused = vus.length
      if (vus.length < wanted) vus.push(...await ctx.pool.create(wanted - vus.length, 'sustained'))
      // At least half of the users have a document and ask questions; the others browse.
      const withDoc = vus.filter((u) => u.docs > 0).length
      const need = Math.max(0, Math.ceil(vus.length / 2) - withDoc)
      await ctx.pool.ensureDocument(vus.filter((u) => u.docs === 0).slice(0, need))
      notes.push(`${vus.length} virtual users (${reused} reused from earlier scenarios), each with its own address; ` +
        `${vus.filter((u) => u.docs > 0).length} have a document and ask questions`)
    } else {
      vus = await singleAddressUsers(ctx)
      await ctx.pool.ensureDocument(vus.filter((u) => u.docs === 0).slice(0, 1))
      notes.push(`${vus.length} signed-in users share this machine's address; requests that would exceed its limits become health polls`)
    }
    const totalWeight = SUSTAINED_MIX.reduce((a, [, w]) => a + w, 0)
    const pick = (): SustainedKind => {
      let r = Math.random() * totalWeight
      for (const [k, w] of SUSTAINED_MIX) {
        if ((r -= w) < 0) return k
      }
      return 'health'
    }
    let rr = 0
    let substituted = 0
    const ok = (e: Expectation): Expectation => ctx.perUser ? e : orLimited(e)
    const next = (): Op => {
      const u = vus.length > 0 ? vus[rr++ % vus.length]! : undefined
      const kind = pick()
      if (u === undefined || kind === 'health') return healthOp(u?.address, 'health')
      const now = Date.now()
      switch (kind) {
        case 'login':
          // At most one login per user and minute (plus five seconds of slack): a returning user, not an attack.
          if (ctx.budget.used(u.address, 'login', LIMITS.login.windowMs + 5000, now) === 0) {
            ctx.budget.use(u.address, 'login', now)
            return loginOp(u.email, u.password, u.address, 'login', ok(expectToken), u.index)
          }
          break
        case 'ask':
        case 'limits': {
          const bucket = kind === 'ask' ? '/ask' : '/limits'
          if ((kind === 'limits' || u.docs > 0) && u.queries < QUERY_BUDGET && ctx.budget.canUse(u.address, bucket, LIMITS.endpoint, ENDPOINT_MARGIN, 0, now)) {
            u.queries++
            ctx.budget.use(u.address, bucket, now)
            if (kind === 'limits') return readOp('/limits', u, ok(expectSuccess()), 'limits')
            const qs = corpus(u.index).questions
            return askOp(u, `${qs[rr % qs.length]!} (sustained ${rr})`, u.address, ok(expectSuccess()), 'ask')
          }
          break
        }
        case 'documents':
          if (ctx.budget.canUse(u.address, '/documents', LIMITS.endpoint, ENDPOINT_MARGIN, 0, now)) {
            ctx.budget.use(u.address, '/documents', now)
            return readOp('/documents', u, ok(expectSuccess()), 'documents')
          }
          break
      }
      substituted++
      return healthOp(u.address, 'health (budget)')
    }
    const setupMs = performance.now() - t0
    const connections = Math.max(1, Math.min(ctx.config.connections, rate > 0 ? rate : ctx.config.connections))
    const outcome = await measured(ctx, 'sustained', { next, durationMs, connections, ...(rate > 0 ? { rate } : {}) })
    if (substituted > 0) notes.push(`${substituted} requests became health polls because the user had used its budget (logins per minute, questions per day, requests per hour)`)
    const checks: Check[] = [...errorChecks('sustained', outcome.samples)]
    if (ctx.perUser) {
      const limited = outcome.samples.filter((s) => s.status === 429)
      checks.push(check('sustained: no 429 for traffic within the limits', limited.length === 0,
        limited.length === 0 ? `0 of ${outcome.samples.length}` : `${limited.length} x 429 (${[...new Set(limited.map((s) => s.op))].join(', ')})`, 'rate-limit', 'sustained'))
    }
    checks.push(expectationCheck('sustained', 'every answer as expected', outcome.samples))
    if (rate > 0) {
      const achieved = outcome.durationMs > 0 ? outcome.samples.length / (outcome.durationMs / 1000) : 0
      // autocannon paces each connection at a whole number of requests per second, and a request
      // slower than a second (an /ask waits for the LLM) makes its connection skip a slot, so a
      // shortfall is partly latency: between 50 % and 90 % it is a warning, below 50 % a failure.
      const status: Check['status'] = achieved >= rate * 0.9 ? 'pass' : achieved >= rate * 0.5 ? 'warn' : 'fail'
      checks.push(check(`sustained: kept up with ${rate} req/s`, status,
        `${achieved.toFixed(1)} req/s achieved (${((achieved / rate) * 100).toFixed(0)}% of the target; 90% passes)` +
          (status === 'pass' ? '' : '. Each connection sends at most one request per second, so requests slower than a second (see the P95) cost throughput; below 50% fails'),
        'expectation', 'sustained'))
    }
    return buildScenarioResult({
      ...meta(sustained),
      setupMs,
      checks,
      notes,
      settings: { durationMs, users: vus.length, targetRate: rate, connections }
    }, outcome)
  }
}

function meta (def: ScenarioDefinition): { name: ScenarioName, title: string, description: string } {
  return { name: def.name, title: def.title, description: def.description }
}

export const SCENARIOS: Record<ScenarioName, ScenarioDefinition> = { health, signups, logins, stress, query, upload, sustained }
