import { describe, expect, it } from 'vitest'
import { evaluateThreshold, type MetricSource, parseThreshold } from '../src/thresholds.js'

const scenarios = ['health', 'signups', 'logins', 'stress', 'query', 'upload', 'sustained']

const src: MetricSource = {
  latency: { p50: 10, p90: 30, p95: 42.5, p99: 80, avg: 15, min: 1, max: 120, count: 100 },
  rps: 250,
  successRate: 98,
  errorRate: 2,
  total: 100,
  successful: 98,
  failed: 2,
  rateLimited: 27,
  errors: 1,
  timeouts: 0,
  http2xx: 70,
  http4xx: 28,
  http5xx: 1
}

describe('parseThreshold', () => {
  it('parses scenario, metric, operator and number', () => {
    expect(parseThreshold('health.p95<50', scenarios)).toEqual({ source: 'health.p95<50', scenario: 'health', metric: 'p95', op: '<', value: 50 })
    expect(parseThreshold(' stress.successRate >= 85 ', scenarios)).toMatchObject({ scenario: 'stress', metric: 'successRate', op: '>=', value: 85 })
    expect(parseThreshold('overall.errorRate<=5%', scenarios)).toMatchObject({ scenario: 'overall', metric: 'errorRate', op: '<=', value: 5 })
    expect(parseThreshold('signups.rateLimited==27', scenarios)).toMatchObject({ op: '==', value: 27 })
    expect(parseThreshold('signups.rateLimited=27', scenarios)).toMatchObject({ op: '==', value: 27 })
    expect(parseThreshold('query.p99!=0', scenarios)).toMatchObject({ op: '!=' })
  })

  it('accepts aliases and latency units', () => {
    expect(parseThreshold('health.median<20', scenarios)).toMatchObject({ metric: 'p50', value: 20 })
    expect(parseThreshold('query.avg<2.5s', scenarios)).toMatchObject({ metric: 'avg', value: 2500 })
    expect(parseThreshold('query.p95<300ms', scenarios)).toMatchObject({ metric: 'p95', value: 300 })
    expect(parseThreshold('health.mean<5', scenarios)).toMatchObject({ metric: 'avg' })
  })

  it('rejects malformed input, unknown scenarios, metrics and misplaced units', () => {
    expect(() => parseThreshold('health.p95', scenarios)).toThrow(/expected/)
    expect(() => parseThreshold('p95<50', scenarios)).toThrow(/expected/)
    expect(() => parseThreshold('nope.p95<50', scenarios)).toThrow(/unknown scenario/)
    expect(() => parseThreshold('health.p42<50', scenarios)).toThrow(/unknown metric/)
    expect(() => parseThreshold('health.rps>5s', scenarios)).toThrow(/latency/)
    expect(() => parseThreshold('health.p95<5%', scenarios)).toThrow(/%/)
    expect(() => parseThreshold('upload.p95<50', ['health'])).toThrow(/unknown scenario/)
  })
})

describe('evaluateThreshold', () => {
  it('reads the metric and compares', () => {
    expect(evaluateThreshold(parseThreshold('health.p95<50', scenarios), src)).toMatchObject({ ok: true, actual: 42.5 })
    expect(evaluateThreshold(parseThreshold('health.p95<40', scenarios), src)).toMatchObject({ ok: false, actual: 42.5, detail: 'actual 42.50 ms (required < 40 ms)' })
    expect(evaluateThreshold(parseThreshold('health.rps>200', scenarios), src).ok).toBe(true)
    expect(evaluateThreshold(parseThreshold('health.successRate>=98', scenarios), src).ok).toBe(true)
    expect(evaluateThreshold(parseThreshold('health.http5xx==0', scenarios), src)).toMatchObject({ ok: false, detail: 'actual 1 (required == 0)' })
    expect(evaluateThreshold(parseThreshold('health.max<=120', scenarios), src).ok).toBe(true)
  })

  it('fails when the scenario did not run or nothing was answered', () => {
    expect(evaluateThreshold(parseThreshold('health.p95<50', scenarios), undefined)).toMatchObject({ ok: false, detail: 'scenario "health" did not run' })
    const noAnswers = { ...src, latency: { ...src.latency, count: 0 } }
    expect(evaluateThreshold(parseThreshold('health.p95<50', scenarios), noAnswers).ok).toBe(false)
  })
})
