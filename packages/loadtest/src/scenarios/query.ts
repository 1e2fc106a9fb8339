import { performance } from 'node:perf_hooks'
import { corpus } from '@documind/harness'
import { LIMITS } from '../limits.js'
import { type Check, check } from '../model.js'
import { buildScenarioResult } from '../results.js'
import type { Op } from '../runner.js'
import type { VirtualUser } from '../users.js'
import { errorChecks, expectationCheck, unverifiable } from './checks.js'
import { emptyOutcome, ENDPOINT_MARGIN, measured, meta, modeNote, QUERY_BUDGET, type ScenarioDefinition, singleAddressUsers } from './context.js'
import { askOp, asObj, expectSuccess, msg, orLimited, shuffle } from './ops.js'

export const query: ScenarioDefinition = {
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
