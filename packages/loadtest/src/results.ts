import type { Check, OperationStats, Sample, ScenarioName, ScenarioResult } from './model.js'
import type { RunOutcome } from './runner.js'
import { histogram, summarize, timeline } from './stats.js'
import type { MetricSource } from './thresholds.js'

const pct = (part: number, whole: number): number => whole === 0 ? 0 : Math.round((part / whole) * 100_000) / 1000

function countStatus (samples: readonly Sample[]): Record<string, number> {
  const codes: Record<string, number> = {}
  for (const s of samples) {
    if (s.status === 0) continue
    codes[String(s.status)] = (codes[String(s.status)] ?? 0) + 1
  }
  return Object.fromEntries(Object.entries(codes).sort(([a], [b]) => Number(a) - Number(b)))
}

function answeredLatencies (samples: readonly Sample[]): number[] {
  const out: number[] = []
  for (const s of samples) if (s.status !== 0 && Number.isFinite(s.latencyMs)) out.push(s.latencyMs)
  return out
}

export function operationStats (samples: readonly Sample[]): Record<string, OperationStats> {
  const groups = new Map<string, Sample[]>()
  for (const s of samples) {
    const list = groups.get(s.op)
    if (list === undefined) groups.set(s.op, [s])
    else list.push(s)
  }
  const out: Record<string, OperationStats> = {}
  for (const [op, list] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const successful = list.filter((s) => s.ok).length
    out[op] = {
      total: list.length,
      successful,
      failed: list.length - successful,
      rateLimited: list.filter((s) => s.status === 429).length,
      statusCodes: countStatus(list),
      latency: summarize(answeredLatencies(list))
    }
  }
  return out
}

export interface ScenarioMeta {
  name: ScenarioName
  title: string
  description: string
  setupMs: number
  checks: Check[]
  notes: string[]
  settings: Record<string, string | number | boolean>
}

/** A scenario's result and the samples behind it (kept out of the report: they would make the JSON huge). */
export interface ScenarioRun {
  result: ScenarioResult
  samples: readonly Sample[]
}

/** Every figure of a scenario, from its samples. */
export function buildScenarioResult (meta: ScenarioMeta, outcome: RunOutcome): ScenarioRun {
  const samples = outcome.samples
  const total = samples.length
  const successful = samples.filter((s) => s.ok).length
  const failed = total - successful
  const durationMs = Math.round(outcome.durationMs * 1000) / 1000
  const rateLimited = samples.filter((s) => s.status === 429).length
  const rateLimitedExpected = samples.filter((s) => s.status === 429 && s.ok).length
  const expectedRejections = samples.filter((s) => s.ok && s.status >= 400 && s.status !== 429).length
  const result: ScenarioResult = {
    name: meta.name,
    title: meta.title,
    description: meta.description,
    startedAt: outcome.startedAt.toISOString(),
    durationMs,
    setupMs: Math.round(meta.setupMs),
    total,
    successful,
    failed,
    rateLimited,
    rateLimitedExpected,
    expectedRejections,
    http2xx: samples.filter((s) => s.status >= 200 && s.status < 300).length,
    http4xx: samples.filter((s) => s.status >= 400 && s.status < 500).length,
    http5xx: samples.filter((s) => s.status >= 500).length,
    errors: samples.filter((s) => s.status === 0).length,
    timeouts: outcome.timeouts,
    unfinished: outcome.unfinished,
    successRate: pct(successful, total),
    errorRate: pct(failed, total),
    rps: durationMs > 0 ? Math.round((total / (durationMs / 1000)) * 100) / 100 : 0,
    latency: summarize(answeredLatencies(samples)),
    statusCodes: countStatus(samples),
    operations: operationStats(samples),
    histogram: histogram(answeredLatencies(samples)),
    timeline: timeline(samples.map((s) => ({ at: s.at, ok: s.ok, status: s.status })), durationMs),
    checks: meta.checks,
    notes: meta.notes,
    settings: meta.settings
  }
  return { result, samples }
}

export interface OverallResult extends MetricSource {
  /** Sum of the scenario durations, ms. */
  durationMs: number
  /** All requests / sum of all scenario durations, paced scenarios included. */
  rpsAll: number
  statusCodes: Record<string, number>
  rateLimitedExpected: number
  expectedRejections: number
}

/** A scenario whose request rate is set by the load tester (--rate), so its rps says nothing of capacity. */
export const isPaced = (r: ScenarioResult): boolean => typeof r.settings.targetRate === 'number' && r.settings.targetRate > 0

/**
 * Pooled figures over every request of every scenario: counts are summed and latency percentiles
 * are computed over all answered requests together. rps (the throughput the criteria judge) is
 * requests / duration summed over the scenarios that run as fast as the server answers, i.e.
 * without a paced one (sustained at --rate); rpsAll includes it. Setup phases are excluded.
 */
export function buildOverall (results: readonly ScenarioResult[], samples: readonly Sample[]): OverallResult {
  const sum = (f: (r: ScenarioResult) => number, list: readonly ScenarioResult[] = results): number => list.reduce((a, r) => a + f(r), 0)
  const total = sum((r) => r.total)
  const successful = sum((r) => r.successful)
  const durationMs = sum((r) => r.durationMs)
  const unpaced = results.filter((r) => !isPaced(r))
  const capacity = unpaced.length > 0 ? unpaced : results
  const rate = (list: readonly ScenarioResult[]): number => {
    const ms = sum((r) => r.durationMs, list)
    return ms > 0 ? Math.round((sum((r) => r.total, list) / (ms / 1000)) * 100) / 100 : 0
  }
  return {
    latency: summarize(answeredLatencies(samples)),
    rps: rate(capacity),
    rpsAll: rate(results),
    successRate: pct(successful, total),
    errorRate: pct(total - successful, total),
    total,
    successful,
    failed: total - successful,
    rateLimited: sum((r) => r.rateLimited),
    rateLimitedExpected: sum((r) => r.rateLimitedExpected),
    expectedRejections: sum((r) => r.expectedRejections),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    http2xx: sum((r) => r.http2xx),
    http4xx: sum((r) => r.http4xx),
    http5xx: sum((r) => r.http5xx),
    durationMs,
    statusCodes: countStatus(samples)
  }
}
