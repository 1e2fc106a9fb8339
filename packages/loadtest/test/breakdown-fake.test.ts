import { freePort } from '@documind/harness'
import { afterEach, describe, expect, it } from 'vitest'
import type { LoadTestConfig } from '../src/config.js'
import type { ServerBreakdown, TimePart } from '../src/breakdown.js'
import { renderScenario, renderSummary } from '../src/report/console.js'
import { renderJson } from '../src/report/json.js'
import type { Report } from '../src/report/types.js'
import { runLoadTest } from '../src/run.js'
import { type FakeApi, fakeTargetConfig, startFakeApi } from './fake-api.js'

let fake: FakeApi | undefined
afterEach(async () => {
  await fake?.close()
  fake = undefined
})

function config (target: string, overrides: Partial<LoadTestConfig> = {}): LoadTestConfig {
  return fakeTargetConfig(target, { metricsToken: 'secret', ...overrides })
}

const run = async (c: LoadTestConfig): Promise<{ report: Report, lines: string[] }> => {
  const lines: string[] = []
  const report = await runLoadTest(c, { log: (l) => lines.push(l) })
  return { report, lines }
}

const server = (report: Report, name: keyof Report['scenarios']): ServerBreakdown => {
  const figures = report.scenarios[name]?.server
  if (figures?.available !== true) throw new Error(`${name}: no server figures (${JSON.stringify(figures)})`)
  return figures
}

describe('where the time went, from the target\'s /metrics', () => {
  it('breaks every scenario down and finds the server\'s counts equal to the client\'s', async () => {
    fake = await startFakeApi({ trustXff: true, metrics: { token: 'secret' } })
    const { report } = await run(config(fake.url))
    expect(report.checks.filter((c) => c.status !== 'pass'), JSON.stringify(report.checks, null, 1)).toEqual([])
    for (const r of Object.values(report.scenarios)) {
      const count = r.checks.find((c) => c.name === `${r.name}: the server counted the same requests and 429s per route as the client`)
      expect(count?.status, r.name).toBe('pass')
      const b = server(report, r.name)
      // The scrapes bracket the measured requests only: setup requests are not counted.
      expect(b.requests, r.name).toBe(r.total - r.errors)
      expect(b.line.startsWith(`${r.name} server p95 `), b.line).toBe(true)
      expect(b.workers.map((w) => w.worker)).toEqual(['0'])
      expect(b.workers[0]!.eventLoopUtilisation).toBeGreaterThan(0)
      expect(b.workers[0]!.eventLoopUtilisation).toBeLessThanOrEqual(1)
    }

    const logins = server(report, 'logins')
    expect(logins.routes).toEqual([expect.objectContaining({ route: 'POST /auth/login', requests: 30, rateLimited: 15, clientRequests: 30, clientRateLimited: 15 })])
    // 15 attempts got past the limiter, each verified a password: each waited for the one hash slot.
    const part = (b: ServerBreakdown, key: string): TimePart => b.split.find((p) => p.key === key)!
    expect(part(logins, 'hashing').count).toBe(15)
    expect(part(logins, 'hashWait').count).toBe(15)
    expect(part(logins, 'llm').count).toBe(0)
    expect(logins.line).toMatch(/waiting for a hash slot, .* hashing/)
    expect(part(server(report, 'query'), 'llm').count).toBeGreaterThan(0)
    expect(server(report, 'query').line).toMatch(/ LLM/)
    // The shares add up to the server's whole request time.
    const shares = logins.split.reduce((a, p) => a + p.seconds, 0)
    expect(shares).toBeCloseTo((logins.meanMs! * logins.requests) / 1000, 2)

    // One point per second of the timed scenario (2.5 s) and a last one at its end.
    const sustained = server(report, 'sustained')
    expect(sustained.timeline.length).toBeGreaterThanOrEqual(2)
    expect(sustained.timeline.reduce((a, p) => a + p.requests, 0)).toBe(sustained.requests)
    expect(report.notes.some((n) => n.startsWith('server metrics unavailable'))).toBe(false)

    // Console: the line under each scenario and in the summary; JSON: every figure.
    expect(renderScenario(report.scenarios.logins!, 3)).toContain(`  Where the time went (server, from /metrics):\n    ${logins.line}\n    POST /auth/login  server    30 req   15 x 429`)
    const summary = renderSummary(report)
    expect(summary).toContain('Where the time went (server side, from /metrics):')
    for (const r of Object.values(report.scenarios)) expect(summary).toContain(`  ${server(report, r.name).line}`)
    const json = JSON.parse(renderJson(report)) as { scenarios: Record<string, { server: Record<string, unknown> }> }
    expect(Object.keys(json.scenarios.logins!.server)).toEqual(['available', 'seconds', 'requests', 'p50Ms', 'p95Ms', 'meanMs', 'clientP95Ms', 'routes', 'split', 'cpuMsPerRequest', 'workers', 'peaks', 'timeline', 'countCheck', 'line'])
  }, 60_000)

  it('warns when the server counted other requests than the client sent (a remote target may have other clients)', async () => {
    fake = await startFakeApi({ trustXff: true, metrics: { token: 'secret', uncounted: '/auth/login' } })
    const { report } = await run(config(fake.url, { scenarios: ['health', 'logins'] }))
    const c = report.checks.find((x) => x.name.startsWith('logins: the server counted'))!
    expect(c.status).toBe('warn')
    expect(c.detail).toContain('POST /auth/login: server 0, client 30 answered')
    expect(c.detail).toContain('other clients')
    expect(report.checks.find((x) => x.name.startsWith('health: the server counted'))!.status).toBe('pass')
  }, 60_000)

  it('tolerates requests that got no answer: the server may or may not have counted them', async () => {
    fake = await startFakeApi({ trustXff: true, healthDropEvery: 10, metrics: { token: 'secret' } })
    const { report } = await run(config(fake.url, { scenarios: ['health'] }))
    expect(report.scenarios.health!.errors).toBe(5)
    expect(report.checks.find((x) => x.name.startsWith('health: the server counted'))!.status).toBe('pass')
    expect(server(report, 'health').requests).toBe(45)
  }, 60_000)

  it('says why when the metrics cannot be read, and carries on', async () => {
    fake = await startFakeApi({ trustXff: true })
    const off = await run(config(fake.url, { scenarios: ['health'] }))
    expect(off.report.ok).toBe(true)
    expect(off.report.scenarios.health!.server).toEqual({ available: false, reason: `GET ${fake.url}/metrics answered 404 (metrics are off: set METRICS_TOKEN or METRICS_PORT on the deployment)` })
    expect(off.report.notes).toContain(`server metrics unavailable: GET ${fake.url}/metrics answered 404 (metrics are off: set METRICS_TOKEN or METRICS_PORT on the deployment)`)
    expect(off.lines.some((l) => l.startsWith('Server metrics unavailable: '))).toBe(true)
    expect(renderSummary(off.report)).toContain(`Where the time went: server metrics unavailable (GET ${fake.url}/metrics answered 404`)
    await fake.close()

    fake = await startFakeApi({ trustXff: true, metrics: { token: 'secret' } })
    const refused = await run(config(fake.url, { scenarios: ['health'], metricsToken: 'wrong' }))
    expect(refused.report.ok).toBe(true)
    expect(refused.report.notes).toContain(`server metrics unavailable: GET ${fake.url}/metrics answered 401 (the token was refused)`)

    const nobody = `http://127.0.0.1:${await freePort()}/metrics`
    const elsewhere = await run(config(fake.url, { scenarios: ['health'], metricsUrl: nobody }))
    expect(elsewhere.report.ok).toBe(true)
    expect(elsewhere.report.notes).toContain(`server metrics unavailable: GET ${nobody}: ECONNREFUSED`)
  }, 60_000)
})
