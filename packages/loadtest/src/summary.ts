// The judgement of a run: pooled figures, grades, the verdict and its criteria, thresholds and the
// --require gate (pure: from the scenarios' results and samples).
import type { LoadTestConfig } from './config.js'
import {
  excellentCriteria, gradeP95, gradeSuccessRate, meetsRequirement, productionReadyCriteria,
  successCriteriaSummary, verdictOf, type CriteriaFacts, type OverallMetrics, type ScenarioFigures
} from './grades.js'
import { type Check, check, type Sample, SCENARIO_NAMES, type ScenarioName, type ScenarioResult } from './model.js'
import type { Report } from './report/types.js'
import { buildOverall } from './results.js'
import { evaluateThreshold } from './thresholds.js'

function figures (r: ScenarioResult | undefined): ScenarioFigures | undefined {
  if (r === undefined || r.total === 0) return undefined
  return { successRate: r.successRate, avgMs: r.latency.avg, p95Ms: r.latency.p95, errors: r.errors, http5xx: r.http5xx }
}

export interface RunJudgement {
  overall: Report['overall']
  scenarios: Partial<Record<ScenarioName, ScenarioResult>>
  summary: Report['summary']
  /** The scenarios' checks, then the run's own (`globalChecks`, thresholds, the verdict gate). */
  checks: Check[]
}

/**
 * Judges a run. `globalChecks` are the run's own checks so far (stack, set-up); `notes` receives
 * the partial-run note. An aborted run gets no --require gate.
 */
export function judgeRun (config: LoadTestConfig, results: readonly ScenarioResult[], allSamples: readonly Sample[],
  globalChecks: Check[], notes: string[], aborted: boolean): RunJudgement {
  const overall = buildOverall(results, allSamples)
  const byName = Object.fromEntries(results.map((r) => [r.name, r])) as Partial<Record<ScenarioName, ScenarioResult>>
  const scenarioChecks = results.flatMap((r) => r.checks)
  const rateChecks = scenarioChecks.filter((c) => c.category === 'rate-limit' && c.status !== 'skip')
  const facts: CriteriaFacts = {
    rateLimiting: rateChecks.some((c) => c.status === 'fail')
      ? false
      : rateChecks.length === 0 || rateChecks.some((c) => c.status === 'warn') ? undefined : true,
    noCrashes: overall.errors === 0 && overall.http5xx === 0 && !globalChecks.some((c) => c.category === 'stack' && !c.ok)
  }
  const metrics: OverallMetrics = {
    total: overall.total,
    successRate: overall.successRate,
    errorRate: overall.errorRate,
    avgMs: overall.latency.avg,
    p95Ms: overall.latency.p95,
    rps: overall.rps
  }
  const pr = productionReadyCriteria(metrics, facts)
  const ex = excellentCriteria(metrics)
  const verdict = verdictOf(pr, ex)
  const summary = {
    successGrade: gradeSuccessRate(metrics.successRate),
    latencyGrade: gradeP95(metrics.p95Ms),
    productionReady: { ok: pr.every((c) => c.ok), criteria: pr },
    excellent: { ok: ex.every((c) => c.ok), criteria: ex },
    successCriteria: successCriteriaSummary(metrics, facts, figures(byName.health), figures(byName.stress)),
    verdict,
    requirement: config.require
  }

  for (const t of config.thresholds) {
    const src = t.scenario === 'overall' ? overall : byName[t.scenario as ScenarioName]
    const r = evaluateThreshold(t, src)
    globalChecks.push(check(`threshold ${t.source}`, r.ok, r.detail, 'threshold'))
  }
  const fullRun = SCENARIO_NAMES.every((n) => byName[n] !== undefined)
  if (!fullRun && results.length > 0) {
    notes.push('Partial run (not every scenario ran): the verdict is indicative only and --require is not applied.')
  }
  if (config.require !== 'none' && fullRun && !aborted) {
    const failing = pr.filter((c) => !c.ok).map((c) => `${c.name} ${c.actual} (needs ${c.target})`)
    const exFailing = ex.filter((c) => !c.ok).map((c) => `${c.name} ${c.actual} (needs ${c.target})`)
    globalChecks.push(check(`verdict is ${config.require === 'excellent' ? 'EXCELLENT' : 'PRODUCTION READY or better'} (--require ${config.require})`,
      meetsRequirement(verdict, config.require),
      `verdict ${verdict}` + (failing.length > 0 ? `; production ready misses: ${failing.join('; ')}` : '') +
        (config.require === 'excellent' && exFailing.length > 0 ? `; excellent misses: ${exFailing.join('; ')}` : ''),
      'verdict'))
  }

  return { overall, scenarios: byName, summary, checks: [...scenarioChecks, ...globalChecks] }
}
