// The load test's report shapes over the shared statistics: every latency is kept, sorted once,
// and percentiles are read by nearest rank.
import { buckets, distribution } from '@documind/harness'

export { histogram, percentile, sortNumbers, type HistogramBin } from '@documind/harness'

export interface LatencySummary {
  /** Number of latencies summarised (answered requests only). */
  count: number
  avg: number
  /** Median, the nearest-rank 50th percentile. */
  p50: number
  p90: number
  p95: number
  p99: number
  min: number
  max: number
  stddev: number
}

/** Summary of a set of latencies in ms, rounded to the microsecond. All fields are 0 when empty. */
export function summarize (values: readonly number[]): LatencySummary {
  if (values.length === 0) return { count: 0, avg: 0, p50: 0, p90: 0, p95: 0, p99: 0, min: 0, max: 0, stddev: 0 }
  const d = distribution(values)
  return { count: d.count, avg: d.mean, p50: d.p50, p90: d.p90, p95: d.p95, p99: d.p99, min: d.min, max: d.max, stddev: d.stddev }
}

export interface TimelineBucket {
  /** Seconds since the scenario started (bucket [second, second + 1)). */
  second: number
  /** Requests completed in that second (answered or failed). */
  count: number
  /** Of which failed (unexpected status, connection error, timeout). */
  failed: number
  rateLimited: number
}

/** Completions per 1-second bucket from the start of the scenario; empty seconds are kept (count 0). */
export function timeline (events: ReadonlyArray<{ at: number, ok: boolean, status: number }>, durationMs: number): TimelineBucket[] {
  return buckets(events, (e) => e.at, 1000, Math.max(1, Math.ceil(durationMs / 1000))).map((inSecond, second) => ({
    second,
    count: inSecond.length,
    failed: inSecond.filter((e) => !e.ok).length,
    rateLimited: inSecond.filter((e) => e.status === 429).length
  }))
}
