import { performance } from 'node:perf_hooks'
import { corpus } from '@documind/harness'
import { LIMITS } from '../limits.js'
import { type Check, check } from '../model.js'
import { buildScenarioResult } from '../results.js'
import type { Expectation, Op } from '../runner.js'
import type { VirtualUser } from '../users.js'
import { errorChecks, expectationCheck } from './checks.js'
import { ENDPOINT_MARGIN, measured, meta, modeNote, QUERY_BUDGET, type ScenarioDefinition, singleAddressUsers } from './context.js'
import { askOp, expectSuccess, expectToken, healthOp, loginOp, orLimited, readOp } from './ops.js'

type SustainedKind = 'health' | 'documents' | 'ask' | 'limits' | 'login'
/** Share of each request kind; a user logs in at most once a minute (a new session), so logins stay rare. */
const SUSTAINED_MIX: Array<[SustainedKind, number]> = [['health', 35], ['documents', 25], ['ask', 20], ['limits', 15], ['login', 5]]

export const sustained: ScenarioDefinition = {
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
