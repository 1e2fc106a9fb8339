import type { Criterion, Grade, LatencyGrade, Requirement, SuccessGrade, Verdict } from '../grades.js'
import type { Check, ScenarioName, ScenarioResult } from '../model.js'
import type { OverallResult } from '../results.js'

export interface MachineInfo {
  cores: number
  cpuModel: string
  memoryBytes: number
  freeMemoryBytes: number
  platform: string
  arch: string
  node: string
  loadavg: number[]
  hostname: string
}

export interface StackInfo {
  url: string
  workers: number
  database: string
  limitStore: string
  llmLatencyMs: number
  buildMs: number | null
  readyMs: number
  mockStats?: unknown
}

export interface XffInfo {
  /** --xff (default) or --no-xff. */
  requested: boolean
  mode: 'per-user XFF' | 'single address'
  /** What the probe found: true honoured, false ignored, null not probed or inconclusive. */
  honoured: boolean | null
  detail: string
}

export interface Summary {
  successGrade: Grade<SuccessGrade>
  latencyGrade: Grade<LatencyGrade>
  productionReady: { ok: boolean, criteria: Criterion[] }
  excellent: { ok: boolean, criteria: Criterion[] }
  /** The guide's closing "production-ready if" list. */
  successCriteria: Criterion[]
  verdict: Verdict
  requirement: Requirement
}

export interface Report {
  tool: 'documind-loadtest'
  version: string
  /** No check failed. */
  ok: boolean
  exitCode: number
  mode: 'local' | 'target'
  modeDescription: string
  target: string
  xff: XffInfo
  startedAt: string
  finishedAt: string
  wallMs: number
  machine: MachineInfo
  stack: StackInfo | null
  settings: Record<string, unknown>
  scenarios: Partial<Record<ScenarioName, ScenarioResult>>
  overall: OverallResult
  summary: Summary
  /** Every check: the scenarios' own, thresholds, the verdict requirement and the stack's. */
  checks: Check[]
  notes: string[]
  definitions: Record<string, string>
  aborted: boolean
  error: string | null
}

export const DEFINITIONS: Record<string, string> = {
  total: 'requests made in the measured phase (setup requests excluded): answered + no answer',
  successful: 'answers that match the API contract for that request: 2xx with success:true where the body says so, ' +
    'plus expected refusals: 401 for wrong credentials, 403 for a 6th document, 413 for a file over 10 MiB, and 429 where ' +
    'the rate-limit model predicts one (their exact number is verified separately by a rate-limit check)',
  failed: 'total - successful: unexpected status or body, 5xx, connection error, timeout, connection closed without answer',
  rateLimited: 'every 429 answer, expected or not, counted apart; an expected 429 is part of successful, not an error',
  successRate: 'successful / total x 100 = (2xx as expected + expected 401/403/413/429) / total x 100',
  errorRate: 'failed / total x 100',
  latency: 'response time of answered requests (any status), from writing the request to the end of the response, ms',
  percentiles: 'nearest-rank over every recorded latency (no sampling, no interpolation): Pp = sorted[ceil(p/100 x n) - 1]; median = P50',
  rps: 'total / duration, duration = from the first request to the last answer of the scenario. overall.rps (judged by the criteria) = ' +
    'requests / sum of durations of the scenarios that run as fast as the server answers (sustained, paced by --rate, is left out); ' +
    'overall.rpsAll includes it',
  server: 'what the API itself reported through GET /metrics, scraped right before and after the measured requests of each ' +
    'scenario (and every second between): per route the requests and 429s it counted and its P50/P95 (histogram_quantile over the ' +
    'bucket deltas, so the bucket bounds limit the precision), the mean request\'s server time split into waiting for a hash slot ' +
    '(BCRYPT_CONCURRENCY), hashing, PostgreSQL queries, limit-store calls, LLM calls, PDF extraction and other (the rest: handlers, ' +
    'serialisation, waiting for the event loop; parts that overlap inside a request can make it 0), CPU seconds per request and ' +
    'the share of time each worker\'s event loop was busy',
  overall: 'pooled over every request of every scenario that ran; the grades and criteria are judged on these figures'
}
