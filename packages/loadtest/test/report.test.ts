import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultConfig } from '../src/config.js'
import { renderScenario, renderSummary } from '../src/report/console.js'
import { histogramSvg, renderHtml, statusSvg, timelineSvg } from '../src/report/html.js'
import { renderJson } from '../src/report/json.js'
import type { Report } from '../src/report/types.js'
import { runLoadTest } from '../src/run.js'
import { parseThreshold } from '../src/thresholds.js'
import { type FakeApi, startFakeApi } from './fake-api.js'

let fake: FakeApi
let report: Report

beforeAll(async () => {
  fake = await startFakeApi({ trustXff: true, healthFailEvery: 40 })
  const c = defaultConfig()
  report = await runLoadTest({
    ...c,
    target: fake.url,
    scenarios: ['health', 'signups', 'upload', 'sustained'],
    quiet: true,
    health: { requests: 80, connections: 40 },
    upload: { users: 2, sizeBytes: 10_000 },
    sustained: { durationMs: 1200, users: 4, rate: 20 },
    connections: 10,
    thresholds: [parseThreshold('health.p95<10000', ['health'])]
  }, { log: () => {} })
}, 60_000)

afterAll(async () => { await fake.close() })

describe('JSON report', () => {
  it('has every figure in the documented shape', () => {
    const json = JSON.parse(renderJson(report)) as Record<string, any>
    expect(json).toMatchObject({ tool: 'documind-loadtest', mode: 'target', target: fake.url })
    expect(typeof json.ok).toBe('boolean')
    expect(json.machine).toMatchObject({ cores: expect.any(Number), memoryBytes: expect.any(Number), node: process.version })
    expect(json.xff).toMatchObject({ mode: 'per-user XFF', honoured: true })
    for (const name of ['health', 'signups', 'upload', 'sustained']) {
      const s = json.scenarios[name]
      expect(s, name).toMatchObject({
        total: expect.any(Number),
        successful: expect.any(Number),
        failed: expect.any(Number),
        rateLimited: expect.any(Number),
        rps: expect.any(Number),
        successRate: expect.any(Number),
        errorRate: expect.any(Number),
        latency: { avg: expect.any(Number), p50: expect.any(Number), p95: expect.any(Number), p99: expect.any(Number), min: expect.any(Number), max: expect.any(Number) },
        statusCodes: expect.any(Object)
      })
      expect(s.successful + s.failed).toBe(s.total)
      expect(Array.isArray(s.checks) && s.checks.length > 0).toBe(true)
      for (const c of s.checks) expect(c).toMatchObject({ name: expect.any(String), ok: expect.any(Boolean), detail: expect.any(String) })
      expect(Array.isArray(s.timeline)).toBe(true)
      expect(Array.isArray(s.histogram)).toBe(true)
    }
    expect(json.scenarios.health.statusCodes['500']).toBe(2)
    expect(json.scenarios.health.failed).toBe(2)
    expect(json.ok).toBe(false)
    expect(json.exitCode).toBe(1)
    expect(json.checks.some((c: { name: string }) => c.name === 'threshold health.p95<10000')).toBe(true)
    expect(json.summary.productionReady.criteria).toHaveLength(6)
    expect(json.summary.excellent.criteria).toHaveLength(5)
    expect(json.definitions.successRate).toMatch(/successful \/ total/)
    expect(json.overall.total).toBe(Object.values(json.scenarios as Record<string, { total: number }>).reduce((a, s) => a + s.total, 0))
  })
})

describe('HTML report', () => {
  const html = (): string => renderHtml(report)

  it('is one self-contained document: no script, no external src or href', () => {
    const h = html()
    expect(h.startsWith('<!doctype html>')).toBe(true)
    expect(h).not.toMatch(/<script/i)
    expect(h).not.toMatch(/<link/i)
    expect(h).not.toMatch(/(src|href)\s*=\s*["']?\s*(https?:)?\/\//i)
    // The only URLs are plain text (the target), never something to load.
    expect(h).not.toMatch(/<(img|iframe|object|embed|audio|video|source)\b/i)
    expect(h).not.toMatch(/@import|url\(/i)
  })

  it('has an <svg> for each chart: per scenario latency, req/s and status codes, plus the overall status codes', () => {
    const h = html()
    const scenarios = Object.keys(report.scenarios).length
    expect((h.match(/<svg/g) ?? []).length).toBe(scenarios * 3 + 1)
    for (const name of Object.keys(report.scenarios)) {
      const section = h.slice(h.indexOf(`id="scenario-${name}"`), h.indexOf('</section>', h.indexOf(`id="scenario-${name}"`)))
      expect(section).toContain(`${name}: latency distribution`)
      expect(section).toContain(`${name}: requests per second`)
      expect(section).toContain(`${name}: status codes`)
      expect((section.match(/<svg/g) ?? []).length).toBe(3)
    }
    expect(h).toContain('Production Ready Criteria')
    expect(h).toContain('Excellent Performance')
    expect(h).toContain('health: no 5xx answers')
  })

  it('escapes text taken from answers', () => {
    const evil = { ...report, notes: ['<img src=x onerror=alert(1)>'] }
    const h = renderHtml(evil)
    expect(h).not.toContain('<img src=x')
    expect(h).toContain('&lt;img src=x')
  })

  it('draws charts from bins, buckets and codes', () => {
    expect(histogramSvg([{ from: 0, to: 10, count: 3 }, { from: 10, to: 20, count: 1 }])).toMatch(/<svg[^>]*>.*<rect.*<rect/s)
    expect(timelineSvg([{ second: 0, count: 5, failed: 1, rateLimited: 2 }])).toContain('class="fail"')
    expect(statusSvg({ 200: 5, 429: 2 }, 1)).toContain('no answer')
    expect(histogramSvg([])).toContain('no data')
  })
})

describe('console report', () => {
  it('prints the guide-style results and the summary', () => {
    const text = renderScenario(report.scenarios.signups!, 2)
    expect(text).toContain('[TEST 2]')
    expect(text).toMatch(/Rate limited \(429\): 27 \(90\.0%\) {2}\[EXPECTED\]/)
    const summary = renderSummary(report)
    expect(summary).toContain('LOAD TEST SUMMARY')
    expect(summary).toContain('Overall Success Rate')
    expect(summary).toContain('Production Ready Criteria (95/100):')
    expect(summary).toContain('RESULT: FAIL')
  })
})
