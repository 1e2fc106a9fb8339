// Pure statistics over recorded latencies. No sampling and no histogram approximation: every
// latency is kept, sorted once, and percentiles are read from the sorted array.

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

/**
 * Nearest-rank percentile of an ascending array: the smallest value such that at least p % of the
 * values are less than or equal to it, i.e. sorted[ceil(p / 100 * n) - 1]. p = 0 gives the minimum.
 * The result is always one of the observed values (no interpolation). NaN for an empty array.
 */
export function percentile (sorted: readonly number[], p: number): number {
  if (p < 0 || p > 100 || Number.isNaN(p)) throw new RangeError(`percentile must be within 0..100, got ${p}`)
  const n = sorted.length
  if (n === 0) return Number.NaN
  if (p === 0) return sorted[0]!
  // Rounded first so that e.g. 99.9 % of 1000 is rank 999, not 1000 through a floating-point error.
  const rank = Math.ceil(Math.round((p / 100) * n * 1e9) / 1e9)
  return sorted[Math.min(n, Math.max(1, rank)) - 1]!
}

export function sortNumbers (values: readonly number[]): number[] {
  return Array.from(Float64Array.from(values).sort())
}

const round = (value: number, digits = 3): number => {
  if (!Number.isFinite(value)) return value
  const f = 10 ** digits
  return Math.round(value * f) / f
}

/** Summary of a set of latencies in ms, rounded to the microsecond. All fields are 0 when empty. */
export function summarize (values: readonly number[]): LatencySummary {
  const n = values.length
  if (n === 0) return { count: 0, avg: 0, p50: 0, p90: 0, p95: 0, p99: 0, min: 0, max: 0, stddev: 0 }
  const sorted = sortNumbers(values)
  let sum = 0
  for (const v of sorted) sum += v
  const avg = sum / n
  let sq = 0
  for (const v of sorted) sq += (v - avg) ** 2
  return {
    count: n,
    avg: round(avg),
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    min: round(sorted[0]!),
    max: round(sorted[n - 1]!),
    stddev: round(Math.sqrt(sq / n))
  }
}

export interface HistogramBin {
  /** Inclusive lower edge, ms. */
  from: number
  /** Exclusive upper edge, ms (inclusive for the last bin). */
  to: number
  count: number
}

/** Equal-width histogram between the minimum and the maximum. */
export function histogram (values: readonly number[], binCount = 30): HistogramBin[] {
  if (values.length === 0) return []
  let min = Infinity
  let max = -Infinity
  for (const v of values) {
    if (v < min) min = v
    if (v > max) max = v
  }
  const lo = Math.floor(min)
  const hi = Math.max(Math.ceil(max), lo + 1)
  const bins = Math.max(1, Math.min(binCount, values.length))
  const width = (hi - lo) / bins
  const out: HistogramBin[] = []
  for (let i = 0; i < bins; i++) out.push({ from: round(lo + i * width), to: round(lo + (i + 1) * width), count: 0 })
  for (const v of values) {
    const i = Math.min(bins - 1, Math.floor((v - lo) / width))
    out[i]!.count++
  }
  return out
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
  const seconds = Math.max(1, Math.ceil(durationMs / 1000))
  const buckets: TimelineBucket[] = []
  for (let s = 0; s < seconds; s++) buckets.push({ second: s, count: 0, failed: 0, rateLimited: 0 })
  for (const e of events) {
    const s = Math.max(0, Math.floor(e.at / 1000))
    while (buckets.length <= s) buckets.push({ second: buckets.length, count: 0, failed: 0, rateLimited: 0 })
    const b = buckets[s]!
    b.count++
    if (!e.ok) b.failed++
    if (e.status === 429) b.rateLimited++
  }
  return buckets
}
