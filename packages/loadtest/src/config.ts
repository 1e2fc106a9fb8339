import { availableParallelism } from 'node:os'
import type { Requirement } from './grades.js'
import { SCENARIO_NAMES, type ScenarioName } from './model.js'
import type { Threshold } from './thresholds.js'

export interface LoadTestConfig {
  /** Base URL of a running deployment; undefined starts the local stack. */
  target: string | undefined
  scenarios: ScenarioName[]
  /** Send a per-virtual-user X-Forwarded-For address. */
  xff: boolean
  /** Local stack: PM2 worker count (WEB_CONCURRENCY). */
  workers: number
  /** Local stack: groq-mock answer latency, ms. */
  llmLatencyMs: number
  /** Per-request timeout, seconds. */
  timeoutS: number
  /** Local stack: how long to wait for GET /health/ready, ms. */
  readyTimeoutMs: number
  jsonFile: string | undefined
  htmlFile: string | undefined
  /** --threshold, parsed once (each keeps its source text). */
  thresholds: Threshold[]
  require: Requirement
  quiet: boolean
  /** Existing account for a remote target that does not trust X-Forwarded-For. */
  loginEmail: string | undefined
  loginPassword: string | undefined
  /** --target: its Prometheus metrics (default <target>/metrics) and their bearer token. */
  metricsUrl: string | undefined
  metricsToken: string | undefined
  /** Concurrency of the query, upload and sustained scenarios. */
  connections: number
  health: { requests: number, connections: number }
  signups: { requests: number }
  logins: { attempts: number, perAddress: number }
  stress: { operations: number }
  query: { questions: number, perUser: number, quotaProbe: boolean }
  upload: { users: number, sizeBytes: number }
  sustained: { durationMs: number, users: number, rate: number }
  /** Local stack: run `npm run build` when the launcher or groq-mock is missing or stale. */
  build: boolean
  /** Local stack: copy the launcher's output (worker logs) to this file. */
  launcherLog: string | undefined
  /** Local stack: extra environment for the API launcher (tests). */
  stackEnv: Record<string, string>
}

export function defaultConfig (): LoadTestConfig {
  return {
    target: undefined,
    scenarios: [...SCENARIO_NAMES],
    xff: true,
    workers: availableParallelism(),
    llmLatencyMs: 2000,
    timeoutS: 60,
    readyTimeoutMs: 120_000,
    jsonFile: undefined,
    htmlFile: undefined,
    thresholds: [],
    // The verdict depends on the machine (bcrypt cost 12 on 2 cores is slow by design); correctness
    // checks and thresholds decide the exit code unless the engineer asks for a verdict gate.
    require: 'none',
    quiet: false,
    loginEmail: undefined,
    loginPassword: undefined,
    metricsUrl: undefined,
    metricsToken: undefined,
    connections: 50,
    health: { requests: 100, connections: 100 },
    signups: { requests: 30 },
    logins: { attempts: 100, perAddress: 10 },
    stress: { operations: 200 },
    query: { questions: 100, perUser: 10, quotaProbe: true },
    upload: { users: 10, sizeBytes: 1024 * 1024 },
    sustained: { durationMs: 30_000, users: 100, rate: 30 },
    build: true,
    launcherLog: undefined,
    stackEnv: {}
  }
}
