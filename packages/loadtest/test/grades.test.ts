import { describe, expect, it } from 'vitest'
import {
  excellentCriteria, gradeP95, gradeSuccessRate, meetsRequirement, productionReadyCriteria,
  successCriteriaSummary, verdictOf, type OverallMetrics
} from '../src/grades.js'

describe('grades of the original guide', () => {
  it('grades the success rate at 95 / 85 / 70', () => {
    expect(gradeSuccessRate(100).grade).toBe('EXCELLENT')
    expect(gradeSuccessRate(95).grade).toBe('EXCELLENT')
    expect(gradeSuccessRate(94.99).grade).toBe('GOOD')
    expect(gradeSuccessRate(87.2)).toEqual({ grade: 'GOOD', message: 'Minor optimizations needed' })
    expect(gradeSuccessRate(85).grade).toBe('GOOD')
    expect(gradeSuccessRate(84.9).grade).toBe('FAIR')
    expect(gradeSuccessRate(70).grade).toBe('FAIR')
    expect(gradeSuccessRate(69.9).grade).toBe('POOR')
    expect(gradeSuccessRate(0).grade).toBe('POOR')
  })

  it('grades P95 at 2 s / 3 s (strictly below)', () => {
    expect(gradeP95(120).grade).toBe('EXCELLENT')
    expect(gradeP95(1999.9).grade).toBe('EXCELLENT')
    expect(gradeP95(2000).grade).toBe('GOOD')
    expect(gradeP95(2145)).toEqual({ grade: 'GOOD', message: 'Acceptable response times' })
    expect(gradeP95(3000).grade).toBe('SLOW')
  })
})

const good: OverallMetrics = { total: 1000, successRate: 97, errorRate: 3, avgMs: 400, p95Ms: 1500, rps: 80 }

describe('criteria', () => {
  it('production ready: all six met', () => {
    const c = productionReadyCriteria(good, { rateLimiting: true, noCrashes: true })
    expect(c.map((x) => x.name)).toEqual(['Success rate', 'Average response time', 'P95 response time', 'Requests/second', 'Rate limiting', 'No server crashes'])
    expect(c.every((x) => x.ok)).toBe(true)
  })

  it('production ready: thresholds are strict (> 90%, < 1.5 s, < 3 s, > 30/s)', () => {
    const edge = productionReadyCriteria({ total: 1, successRate: 90, errorRate: 10, avgMs: 1500, p95Ms: 3000, rps: 30 }, { rateLimiting: true, noCrashes: true })
    expect(edge.slice(0, 4).map((x) => x.ok)).toEqual([false, false, false, false])
  })

  it('unverified rate limiting is not met, and says so', () => {
    const c = productionReadyCriteria(good, { rateLimiting: undefined, noCrashes: true })
    const rl = c.find((x) => x.name === 'Rate limiting')!
    expect(rl.ok).toBe(false)
    expect(rl.actual).toMatch(/not verified/)
  })

  it('excellent: > 95%, < 1 s, < 2 s, > 50/s, errors < 5%', () => {
    expect(excellentCriteria(good).every((x) => x.ok)).toBe(true)
    const c = excellentCriteria({ ...good, successRate: 95, avgMs: 1000, p95Ms: 2000, rps: 50, errorRate: 5 })
    expect(c.map((x) => x.ok)).toEqual([false, false, false, false, false])
  })

  it('success criteria summary needs the health and stress scenarios', () => {
    const facts = { rateLimiting: true, noCrashes: true }
    const fig = { successRate: 99, avgMs: 20, p95Ms: 100, errors: 0, http5xx: 0 }
    expect(successCriteriaSummary(good, facts, fig, fig).every((x) => x.ok)).toBe(true)
    const missing = successCriteriaSummary(good, facts, undefined, undefined)
    expect(missing[0]).toMatchObject({ ok: false, actual: 'scenario not run' })
    expect(successCriteriaSummary(good, facts, { ...fig, avgMs: 600 }, fig)[0]!.ok).toBe(false)
    expect(successCriteriaSummary(good, facts, fig, { ...fig, http5xx: 1 })[3]!.ok).toBe(false)
  })

  it('verdict and requirement', () => {
    const pr = productionReadyCriteria(good, { rateLimiting: true, noCrashes: true })
    expect(verdictOf(pr, excellentCriteria(good))).toBe('EXCELLENT')
    expect(verdictOf(pr, excellentCriteria({ ...good, p95Ms: 2500 }))).toBe('PRODUCTION READY')
    expect(verdictOf(productionReadyCriteria({ ...good, p95Ms: 3500 }, { rateLimiting: true, noCrashes: true }), excellentCriteria(good))).toBe('NOT READY')
    expect(meetsRequirement('PRODUCTION READY', 'production-ready')).toBe(true)
    expect(meetsRequirement('PRODUCTION READY', 'excellent')).toBe(false)
    expect(meetsRequirement('NOT READY', 'production-ready')).toBe(false)
    expect(meetsRequirement('NOT READY', 'none')).toBe(true)
  })
})
