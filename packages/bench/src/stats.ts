// The bench's report shapes over the shared statistics: every latency is kept (no sampling, no
// histogram buckets), sorted once, and percentiles are read by nearest rank.
import { buckets, distribution, percentile, round } from '@documind/harness'

export { LatencyRecorder, median, percentile, ratio, round } from '@documind/harness'

export interface LatencySummary {
  /** Number of latencies summarised. */
  count: number
  min_ms: number
  mean_ms: number
  p50_ms: number
  p90_ms: number
  p95_ms: number
  p99_ms: number
  p999_ms: number
  max_ms: number
}

/** Summary of raw latencies in milliseconds (the input is not modified); NaN figures when empty. */
export function summarize (latencies: ArrayLike<number>): LatencySummary {
  const d = distribution(latencies)
  return { count: d.count, min_ms: d.min, mean_ms: d.mean, p50_ms: d.p50, p90_ms: d.p90, p95_ms: d.p95, p99_ms: d.p99, p999_ms: d.p999, max_ms: d.max }
}

export interface TimelineBucket {
  /** Bucket start, seconds since the start of the run. */
  t_s: number
  responses: number
  p50_ms: number
  p95_ms: number
}

/** Latencies grouped by completion time into buckets of `bucketMs` (empty buckets included). */
export function timeline (latencies: ArrayLike<number>, completedAt: ArrayLike<number>, bucketMs: number): TimelineBucket[] {
  const indexes = Array.from({ length: Math.min(latencies.length, completedAt.length) }, (_, i) => i)
  return buckets(indexes, (i) => completedAt[i]!, bucketMs).map((inBucket, b) => {
    const sorted = Float64Array.from(inBucket, (i) => latencies[i]!).sort()
    return { t_s: round((b * bucketMs) / 1000), responses: inBucket.length, p50_ms: round(percentile(sorted, 50)), p95_ms: round(percentile(sorted, 95)) }
  })
}
