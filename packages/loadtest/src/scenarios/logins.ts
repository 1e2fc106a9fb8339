import { performance } from 'node:perf_hooks'
import { LIMITS } from '../limits.js'
import { type Check, check } from '../model.js'
import { buildScenarioResult } from '../results.js'
import type { Op } from '../runner.js'
import type { VirtualUser } from '../users.js'
import { countBy, errorChecks, expectationCheck, unverifiable } from './checks.js'
import { measured, meta, modeNote, type ScenarioDefinition } from './context.js'
import { expectStatus, expectToken, loginOp, orLimited, shuffle } from './ops.js'

export const logins: ScenarioDefinition = {
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
