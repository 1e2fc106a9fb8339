import { performance } from 'node:perf_hooks'
import { LIMITS } from '../limits.js'
import { check } from '../model.js'
import { buildScenarioResult } from '../results.js'
import type { Op } from '../runner.js'
import type { VirtualUser } from '../users.js'
import { errorChecks } from './checks.js'
import { measured, meta, modeNote, type ScenarioDefinition, singleAddressUsers } from './context.js'
import { expectStatus, expectSuccess, expectToken, healthOp, loginOp, orLimited, readOp, shuffle, signupOp } from './ops.js'

export const stress: ScenarioDefinition = {
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
