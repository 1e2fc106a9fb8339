import type { LatencySummary, TimelineBucket } from './stats.js'

/** One autocannon run, executed in its own process (load-runner.ts). */
export interface LoadSpec {
  /** Origin, e.g. http://127.0.0.1:8080 */
  url: string
  method?: 'GET' | 'POST'
  path: string
  connections: number
  /** Longest run, in seconds; the parent may stop it earlier. */
  durationSec: number
  /** Requests per second over all connections (open-ended when absent). */
  overallRate?: number
  /** Per-request timeout in seconds. */
  timeoutSec?: number
  headers?: Record<string, string>
  body?: string
  /**
   * Rotated round-robin over every request of the run (any connection): request k uses
   * variants[k % n] for its body and extra headers.
   */
  variants?: Array<{ body?: string, headers?: Record<string, string> }>
}

export interface LoadResult {
  /** Responses received (any status). */
  responses: number
  /** 2xx responses. */
  ok: number
  statuses: Record<string, number>
  /** Connection errors and timeouts, as counted by autocannon. */
  errors: number
  timeouts: number
  /** From the start of the run (connections opening) to its end. */
  elapsed_s: number
  /** From the start of the run to the last 2xx response. */
  last_ok_s: number
  /**
   * 2xx responses per second over last_ok_s. Requests cut off by the end of the run are neither
   * counted nor timed, so a closed loop of slow requests (logins) is not under-reported.
   */
  rps: number
  /** Raw per-request latency (request written to response complete), every response. */
  latency: LatencySummary
  /** The same without each connection's first request (the burst every run starts with). */
  latency_after_first: LatencySummary
  bytes: number
  /** CPU seconds the load generator process itself used. */
  generator_cpu_s: number
  /** Per second of the run (by completion time): responses, p50 and p95 latency. */
  timeline: TimelineBucket[]
}

export type RunnerMessage =
  | { type: 'run', spec: LoadSpec }
  | { type: 'stop' }

export type RunnerReply =
  | { type: 'started' }
  | { type: 'result', result: LoadResult }
  | { type: 'error', message: string }
