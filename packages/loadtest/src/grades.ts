// The original load test guide's grades and criteria, as pure functions.

export type SuccessGrade = 'EXCELLENT' | 'GOOD' | 'FAIR' | 'POOR'
export type LatencyGrade = 'EXCELLENT' | 'GOOD' | 'SLOW'

export interface Grade<G extends string> {
  grade: G
  message: string
}

/** Success rate in percent: >= 95 EXCELLENT, >= 85 GOOD, >= 70 FAIR, else POOR. */
export function gradeSuccessRate (percent: number): Grade<SuccessGrade> {
  if (percent >= 95) return { grade: 'EXCELLENT', message: 'Production ready' }
  if (percent >= 85) return { grade: 'GOOD', message: 'Minor optimizations needed' }
  if (percent >= 70) return { grade: 'FAIR', message: 'Optimization needed before launch' }
  return { grade: 'POOR', message: 'Not ready for production' }
}

/** 95th percentile latency in ms: < 2000 EXCELLENT, < 3000 GOOD, else SLOW. */
export function gradeP95 (ms: number): Grade<LatencyGrade> {
  if (ms < 2000) return { grade: 'EXCELLENT', message: 'Fast response times' }
  if (ms < 3000) return { grade: 'GOOD', message: 'Acceptable response times' }
  return { grade: 'SLOW', message: 'Response times need optimization' }
}

/** The pooled figures the criteria are judged on. */
export interface OverallMetrics {
  total: number
  successRate: number
  errorRate: number
  avgMs: number
  p95Ms: number
  rps: number
}

export interface Criterion {
  name: string
  target: string
  actual: string
  ok: boolean
}

/** Facts that are not plain numbers: true, false, or undefined when they could not be verified. */
export interface CriteriaFacts {
  /** Every rate-limit exactness check passed. */
  rateLimiting: boolean | undefined
  /** No connection errors, timeouts, 5xx answers or dead server processes. */
  noCrashes: boolean
}

const pct = (v: number): string => `${v.toFixed(1)}%`
const ms = (v: number): string => v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`
const fact = (v: boolean | undefined, yes: string, no: string): string => v === undefined ? 'not verified (see checks)' : v ? yes : no

/** "Production Ready Criteria (95/100)" of the guide. */
export function productionReadyCriteria (m: OverallMetrics, f: CriteriaFacts): Criterion[] {
  return [
    { name: 'Success rate', target: '> 90%', actual: pct(m.successRate), ok: m.successRate > 90 },
    { name: 'Average response time', target: '< 1.5 s', actual: ms(m.avgMs), ok: m.avgMs < 1500 },
    { name: 'P95 response time', target: '< 3 s', actual: ms(m.p95Ms), ok: m.p95Ms < 3000 },
    { name: 'Requests/second', target: '> 30', actual: m.rps.toFixed(1), ok: m.rps > 30 },
    { name: 'Rate limiting', target: 'working correctly', actual: fact(f.rateLimiting, 'exact', 'not exact'), ok: f.rateLimiting === true },
    { name: 'No server crashes', target: 'under load', actual: f.noCrashes ? 'none' : 'errors, 5xx or dead workers', ok: f.noCrashes }
  ]
}

/** "Excellent Performance (100/100)" of the guide. */
export function excellentCriteria (m: OverallMetrics): Criterion[] {
  return [
    { name: 'Success rate', target: '> 95%', actual: pct(m.successRate), ok: m.successRate > 95 },
    { name: 'Average response time', target: '< 1 s', actual: ms(m.avgMs), ok: m.avgMs < 1000 },
    { name: 'P95 response time', target: '< 2 s', actual: ms(m.p95Ms), ok: m.p95Ms < 2000 },
    { name: 'Requests/second', target: '> 50', actual: m.rps.toFixed(1), ok: m.rps > 50 },
    { name: 'Error rate', target: '< 5%', actual: pct(m.errorRate), ok: m.errorRate < 5 }
  ]
}

export interface ScenarioFigures {
  successRate: number
  avgMs: number
  p95Ms: number
  errors: number
  http5xx: number
}

/**
 * The guide's closing "production-ready if" list. Items whose scenario did not run are reported
 * as not verified (ok false).
 */
export function successCriteriaSummary (
  overall: OverallMetrics,
  facts: CriteriaFacts,
  health: ScenarioFigures | undefined,
  stress: ScenarioFigures | undefined
): Criterion[] {
  const notRun = 'scenario not run'
  return [
    {
      name: 'Health checks',
      target: '> 95% success, < 500 ms average',
      actual: health === undefined ? notRun : `${pct(health.successRate)}, ${ms(health.avgMs)}`,
      ok: health !== undefined && health.successRate > 95 && health.avgMs < 500
    },
    {
      name: 'Auth endpoints',
      target: 'rate limiting working (3/hour signup, 5/minute login)',
      actual: fact(facts.rateLimiting, 'exact', 'not exact'),
      ok: facts.rateLimiting === true
    },
    {
      name: 'Mixed load (stress)',
      target: '> 85% success, < 2 s P95',
      actual: stress === undefined ? notRun : `${pct(stress.successRate)}, P95 ${ms(stress.p95Ms)}`,
      ok: stress !== undefined && stress.successRate > 85 && stress.p95Ms < 2000
    },
    {
      name: 'No crashes under 200 concurrent operations',
      target: 'no connection errors or 5xx in the stress test',
      actual: stress === undefined ? notRun : `${stress.errors} errors, ${stress.http5xx} 5xx`,
      ok: stress !== undefined && stress.errors === 0 && stress.http5xx === 0 && facts.noCrashes
    },
    { name: 'Error rate', target: '< 15%', actual: pct(overall.errorRate), ok: overall.errorRate < 15 },
    { name: 'Requests/second', target: '> 30', actual: overall.rps.toFixed(1), ok: overall.rps > 30 }
  ]
}

export type Verdict = 'EXCELLENT' | 'PRODUCTION READY' | 'NOT READY'
export type Requirement = 'none' | 'production-ready' | 'excellent'

export function verdictOf (productionReady: readonly Criterion[], excellent: readonly Criterion[]): Verdict {
  const pr = productionReady.every((c) => c.ok)
  if (!pr) return 'NOT READY'
  return excellent.every((c) => c.ok) ? 'EXCELLENT' : 'PRODUCTION READY'
}

export function meetsRequirement (verdict: Verdict, requirement: Requirement): boolean {
  if (requirement === 'none') return true
  if (requirement === 'production-ready') return verdict !== 'NOT READY'
  return verdict === 'EXCELLENT'
}
