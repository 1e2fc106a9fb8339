import { afterEach, describe, expect, it } from 'vitest'
import type { LoadTestConfig } from '../src/config.js'
import type { Check } from '../src/model.js'
import type { Report } from '../src/report/types.js'
import { runLoadTest } from '../src/run.js'
import { runOps } from '../src/runner.js'
import { expectStatus, healthOp } from '../src/scenarios/index.js'
import { parseThreshold } from '../src/thresholds.js'
import { type FakeApi, fakeTargetConfig, startFakeApi } from './fake-api.js'

let fake: FakeApi | undefined
afterEach(async () => {
  await fake?.close()
  fake = undefined
})

/** A small but complete run: every scenario, small amounts. */
function smallConfig (target: string, overrides: Partial<LoadTestConfig> = {}): LoadTestConfig {
  return fakeTargetConfig(target, { require: 'none', sustained: { durationMs: 1500, users: 5, rate: 30 }, ...overrides })
}

const byName = (report: Report, name: string): Check => {
  const c = report.checks.find((x) => x.name.startsWith(name))
  if (c === undefined) throw new Error(`no check ${name}; have: ${report.checks.map((x) => x.name).join(' | ')}`)
  return c
}

const run = (config: LoadTestConfig): Promise<Report> => runLoadTest(config, { log: () => {} })

describe('scenarios against a fake API that trusts X-Forwarded-For', () => {
  it('counts every request and passes every check when the limits are exact', async () => {
    fake = await startFakeApi({ trustXff: true })
    const report = await run(smallConfig(fake.url))
    const failed = report.checks.filter((c) => !c.ok)
    expect(failed).toEqual([])
    expect(report.ok).toBe(true)
    expect(report.exitCode).toBe(0)
    expect(report.xff).toMatchObject({ mode: 'per-user XFF', honoured: true })

    const s = report.scenarios
    expect(s.health).toMatchObject({ total: 50, successful: 50, failed: 0, rateLimited: 0, statusCodes: { 200: 50 } })

    // 30 signups from one address: 3 x 200, 27 x 429, all of them "successful" (expected).
    expect(s.signups).toMatchObject({ total: 30, successful: 30, failed: 0, rateLimited: 27, rateLimitedExpected: 27, statusCodes: { 200: 3, 429: 27 } })
    expect(byName(report, 'signups: exactly 3 of 30').status).toBe('pass')

    // 3 addresses x 10 attempts: 5 answers each (200 or 401), then 429.
    const logins = s.logins!
    expect(logins.total).toBe(30)
    expect(logins.rateLimited).toBe(15)
    expect((logins.statusCodes['200'] ?? 0) + (logins.statusCodes['401'] ?? 0)).toBe(15)
    expect(logins.successRate).toBe(100)
    expect(byName(report, 'logins: exactly 5 answers per address').status).toBe('pass')

    expect(s.stress).toMatchObject({ total: 60, failed: 0, rateLimited: 0, http5xx: 0 })
    expect(s.stress!.operations['GET /health']!.total).toBe(24)
    expect(s.stress!.operations['POST /auth/login']!.total).toBe(18)
    expect(s.stress!.operations['POST /auth/signup']!.total).toBe(12)

    // 20 questions + the quota probe (51 questions: 50 answered, then one 429).
    expect(s.query).toMatchObject({ total: 71, successful: 71, rateLimited: 1 })
    expect(byName(report, 'query: daily quota exact').status).toBe('pass')

    // 2 users x 6 uploads: 5 stored and one 403 each.
    expect(s.upload).toMatchObject({ total: 12, successful: 12, expectedRejections: 2, statusCodes: { 200: 10, 403: 2 } })
    expect(byName(report, 'upload: document limit exact').status).toBe('pass')

    expect(s.sustained!.total).toBeGreaterThan(20)
    expect(s.sustained!.rateLimited).toBe(0)

    const sum = Object.values(s).reduce((a, r) => a + r.total, 0)
    expect(report.overall.total).toBe(sum)
    expect(report.summary.productionReady.criteria.find((c) => c.name === 'Rate limiting')!.ok).toBe(true)
  }, 60_000)

  it('fails the exactness check when a limit is too loose', async () => {
    fake = await startFakeApi({ trustXff: true, signupLimit: 4, loginLimit: 6 })
    const report = await run(smallConfig(fake.url, { scenarios: ['signups', 'logins'] }))
    expect(report.scenarios.signups).toMatchObject({ statusCodes: { 200: 4, 429: 26 } })
    expect(byName(report, 'signups: exactly 3 of 30')).toMatchObject({ ok: false, status: 'fail' })
    expect(byName(report, 'logins: exactly 5 answers per address')).toMatchObject({ ok: false })
    expect(report.ok).toBe(false)
    expect(report.exitCode).toBe(1)
    expect(report.summary.productionReady.criteria.find((c) => c.name === 'Rate limiting')!.ok).toBe(false)
  }, 30_000)

  it('counts 5xx and dropped connections as failures and fails the error checks', async () => {
    fake = await startFakeApi({ trustXff: true, healthFailEvery: 10, healthDropEvery: 25 })
    const report = await run(smallConfig(fake.url, { scenarios: ['health'], health: { requests: 100, connections: 20 } }))
    const h = report.scenarios.health!
    expect(h.total).toBe(100)
    expect(h.http5xx).toBeGreaterThan(0)
    expect(h.errors).toBeGreaterThan(0)
    expect(h.failed).toBe(h.http5xx + h.errors)
    expect(h.successful + h.failed).toBe(h.total)
    expect(byName(report, 'health: no 5xx')).toMatchObject({ ok: false })
    expect(byName(report, 'health: no connection errors')).toMatchObject({ ok: false })
    expect(report.exitCode).toBe(1)
  }, 30_000)

  it('does not judge a limit from addresses whose answers include a 5xx', async () => {
    fake = await startFakeApi({ trustXff: true, loginFailEvery: 7 })
    const report = await run(smallConfig(fake.url, { scenarios: ['logins'] }))
    const c = byName(report, 'logins: exactly 5 answers per address')
    expect(c.ok).toBe(true)
    expect(c.detail).toMatch(/not verifiable/)
    expect(byName(report, 'logins: no 5xx')).toMatchObject({ ok: false })
    expect(report.scenarios.logins!.http5xx).toBeGreaterThan(0)
  }, 30_000)

  it('reports "busy" refusals as load shedding: failed requests and a warning, not a broken limit', async () => {
    fake = await startFakeApi({ trustXff: true, uploadBusyEvery: 5 })
    const report = await run(smallConfig(fake.url, { scenarios: ['upload'], upload: { users: 3, sizeBytes: 10_000 } }))
    const u = report.scenarios.upload!
    expect(u.total).toBe(18)
    expect(u.failed).toBeGreaterThan(0)
    expect(byName(report, 'upload: no load shedding')).toMatchObject({ status: 'warn', ok: true })
    expect(byName(report, 'upload: every upload stored')).toMatchObject({ ok: true })
    expect(byName(report, 'upload: document limit exact').ok).toBe(true)
    expect(report.ok).toBe(true)
  }, 30_000)

  it('applies thresholds as checks', async () => {
    fake = await startFakeApi({ trustXff: true })
    const report = await run(smallConfig(fake.url, {
      scenarios: ['health'],
      thresholds: ['health.successRate>=99', 'health.p95<0.001', 'overall.total==50'].map((t) => parseThreshold(t, ['health']))
    }))
    expect(byName(report, 'threshold health.successRate>=99').ok).toBe(true)
    expect(byName(report, 'threshold health.p95<0.001').ok).toBe(false)
    expect(byName(report, 'threshold overall.total==50').ok).toBe(true)
    expect(report.exitCode).toBe(1)
  }, 30_000)
})

describe('scenarios against a fake API that ignores X-Forwarded-For', () => {
  it('detects it, falls back to single-address mode and explains a spent signup quota', async () => {
    fake = await startFakeApi({ trustXff: false })
    const config = smallConfig(fake.url, { scenarios: ['signups', 'logins'] })

    const first = await run(config)
    expect(first.xff).toMatchObject({ mode: 'single address', honoured: false })
    expect(first.notes.join(' ')).toMatch(/does not take the client address from X-Forwarded-For/)
    expect(first.scenarios.signups).toMatchObject({ statusCodes: { 200: 3, 429: 27 } })
    expect(byName(first, 'signups: exactly 3 of 30').status).toBe('pass')
    // Logins from the one address use the users the signups made: 5 answers, then 429.
    const logins = first.scenarios.logins!
    expect(logins.total - logins.rateLimited).toBe(5)
    expect(byName(first, 'logins: exactly 5 answers per address').status).toBe('pass')

    // A second run within the hour: the address has no signups left.
    const second = await run(config)
    expect(second.scenarios.signups).toMatchObject({ statusCodes: { 429: 30 }, failed: 0 })
    const c = byName(second, 'signups: exactly 3 of 30')
    expect(c.status).toBe('warn')
    expect(c.ok).toBe(true)
    expect(c.detail).toMatch(/single-address mode/)
    // The logins window of the address is spent too (within the minute): a warning, not a pass.
    expect(byName(second, 'logins: exactly 5 answers per address').status).toBe('warn')
    expect(second.summary.productionReady.criteria.find((x) => x.name === 'Rate limiting')!.actual).toMatch(/not verified/)
  }, 60_000)

  it('runs every scenario in single-address mode with an existing account, and explains what it could not verify', async () => {
    fake = await startFakeApi({ trustXff: false })
    // The account exists already (made from another machine).
    const made = await fetch(`${fake.url}/auth/signup`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '1.2.3.4' }, body: JSON.stringify({ email: 'ops@example.com', password: 'secret-123' }) })
    expect(made.status).toBe(200)
    const report = await run(smallConfig(fake.url, { loginEmail: 'ops@example.com', loginPassword: 'secret-123' }))
    expect(report.xff.mode).toBe('single address')
    expect(report.error).toBeNull()
    expect(Object.keys(report.scenarios)).toEqual(['health', 'signups', 'logins', 'stress', 'query', 'upload', 'sustained'])
    expect(report.checks.filter((c) => c.name.endsWith('scenario ran'))).toEqual([])
    // Everything from one address: 429s beyond the limits are expected, nothing else fails.
    expect(report.scenarios.stress!.http5xx).toBe(0)
    expect(byName(report, 'query: daily quota exact')).toMatchObject({ status: 'skip' })
    expect(report.scenarios.query!.total).toBeGreaterThan(0)
    expect(report.scenarios.upload!.total).toBeGreaterThan(0)
    expect(report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`)).toEqual([])
  }, 60_000)

  it('uses --no-xff as single-address mode without probing', async () => {
    fake = await startFakeApi({ trustXff: true })
    const report = await run(smallConfig(fake.url, { scenarios: ['health'], xff: false }))
    expect(report.xff).toMatchObject({ requested: false, mode: 'single address', honoured: null })
    expect(fake.stats.byPath['GET /tts/languages']).toBeUndefined()
  }, 30_000)
})

describe('runOps', () => {
  it('sends exactly the planned operations and times each answer', async () => {
    fake = await startFakeApi({ trustXff: true })
    const ops = Array.from({ length: 37 }, (_, i) => healthOp(`10.0.0.${i + 1}`, i % 2 === 0 ? 'even' : 'odd'))
    const out = await runOps({ baseUrl: fake.url, connections: 8, ops, timeoutS: 5 })
    expect(out.samples).toHaveLength(37)
    expect(fake.stats.byPath['GET /health']).toBe(37)
    expect(out.samples.every((s) => s.status === 200 && s.ok && s.latencyMs > 0)).toBe(true)
    expect(new Set(out.samples.map((s) => s.address)).size).toBe(37)
    expect(out.samples.filter((s) => s.tag === 'even')).toHaveLength(19)
  })

  it('records the reason of an unexpected answer', async () => {
    fake = await startFakeApi({ missing: ['/nope'] })
    const ops = [{ ...healthOp(), path: '/nope', expect: expectStatus(200) }]
    const out = await runOps({ baseUrl: fake.url, connections: 1, ops, timeoutS: 5 })
    expect(out.samples[0]).toMatchObject({ status: 404, ok: false, reason: 'HTTP 404 (expected 200): not found' })
  })
})
