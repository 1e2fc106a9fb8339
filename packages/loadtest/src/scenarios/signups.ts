import { LIMITS } from '../limits.js'
import { type Check, check } from '../model.js'
import { buildScenarioResult } from '../results.js'
import type { VirtualUser } from '../users.js'
import { errorChecks, expectationCheck, unverifiable } from './checks.js'
import { measured, meta, modeNote, type ScenarioDefinition } from './context.js'
import { expectToken, orLimited, signupOp } from './ops.js'

export const signups: ScenarioDefinition = {
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
