import type { ServerFigures } from './breakdown.js'
import type { HistogramBin, LatencySummary, TimelineBucket } from './stats.js'

export const SCENARIO_NAMES = ['health', 'signups', 'logins', 'stress', 'query', 'upload', 'sustained'] as const
export type ScenarioName = typeof SCENARIO_NAMES[number]

export function isScenarioName (value: string): value is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(value)
}

/**
 * pass: the expectation holds. fail: it does not (exit code 1).
 * warn: it could not be verified from here and the detail says why (does not fail the run).
 * skip: not applicable in this mode.
 */
export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip'

export interface Check {
  name: string
  /** false only when status is 'fail'. */
  ok: boolean
  status: CheckStatus
  detail: string
  /** Scenario the check belongs to; absent for global checks (thresholds, verdict, stack). */
  scenario?: string
  category: CheckCategory
}

/**
 * rate-limit: a limit is exact. errors: no 5xx, no connection errors. expectation: answers as the
 * contract says. threshold: a --threshold. verdict: --require. stack: the local stack itself.
 */
export type CheckCategory = 'rate-limit' | 'errors' | 'expectation' | 'threshold' | 'verdict' | 'stack'

export function check (
  name: string,
  status: CheckStatus | boolean,
  detail: string,
  category: CheckCategory,
  scenario?: string
): Check {
  const s: CheckStatus = typeof status === 'boolean' ? (status ? 'pass' : 'fail') : status
  return { name, ok: s !== 'fail', status: s, detail, ...(scenario === undefined ? {} : { scenario }), category }
}

/** One finished request (or one request that never got an answer). */
export interface Sample {
  /** Operation label, e.g. "POST /auth/login". */
  op: string
  /** Scenario-specific sub-group, e.g. "valid" / "invalid" credentials. */
  tag?: string
  /** X-Forwarded-For address sent, if any. */
  address?: string
  /** Index of the virtual user in the pool, if the request was made as a user. */
  user?: number
  /** HTTP status, or 0 when no answer arrived (connection error, timeout, connection closed). */
  status: number
  /** Response time in ms; NaN when there was no answer. */
  latencyMs: number
  /** Completion time, ms since the scenario started. */
  at: number
  /** The answer is what the API contract says this request should get. */
  ok: boolean
  /** Parsed `success` field of a JSON body, when present. */
  success?: boolean
  error?: string
  /** Short reason for a failed expectation. */
  reason?: string
}

export interface OperationStats {
  total: number
  successful: number
  failed: number
  rateLimited: number
  statusCodes: Record<string, number>
  latency: LatencySummary
}

export interface ScenarioResult {
  name: ScenarioName
  title: string
  description: string
  startedAt: string
  /** From the first request sent to the last answer, ms (setup excluded). */
  durationMs: number
  setupMs: number
  /** Requests made: answered + no answer. */
  total: number
  /** Answers matching the expectation, expected 401/403/429 refusals included. */
  successful: number
  /** total - successful: unexpected statuses, business failures, connection errors, timeouts. */
  failed: number
  /** All 429 answers (expected or not); counted apart from failures. */
  rateLimited: number
  /** 429 answers the rate-limit model predicted (part of `successful`). */
  rateLimitedExpected: number
  /** Expected refusals other than 429 (401 bad credentials, 403 document limit). */
  expectedRejections: number
  /** 2xx answers. */
  http2xx: number
  http4xx: number
  http5xx: number
  /** Requests without an answer: connection errors, timeouts, connection closed. */
  errors: number
  timeouts: number
  /** Requests still in flight when a timed scenario ended (not counted anywhere else). */
  unfinished: number
  /** successful / total x 100. */
  successRate: number
  /** failed / total x 100. */
  errorRate: number
  /** total / duration. */
  rps: number
  /** Over answered requests (any status), ms. */
  latency: LatencySummary
  statusCodes: Record<string, number>
  operations: Record<string, OperationStats>
  histogram: HistogramBin[]
  timeline: TimelineBucket[]
  checks: Check[]
  notes: string[]
  settings: Record<string, string | number | boolean>
  /** What the API's /metrics said about the measured phase; absent when the run did not scrape. */
  server?: ServerFigures
}
