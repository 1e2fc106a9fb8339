// Pure statistics over raw per-request latencies. Every latency is kept (no sampling, no histogram
// buckets), sorted once, and percentiles are read from the sorted values by nearest rank.

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

/**
 * Nearest-rank percentile of ascending values: sorted[ceil(p / 100 * n) - 1], i.e. the smallest
 * observed value such that at least p % of the values are <= it (p = 0 gives the minimum). Always an
 * observed value, never an interpolation. NaN when there are no values.
 */
export function percentile (sorted: ArrayLike<number>, p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`)
  const n = sorted.length
  if (n === 0) return Number.NaN
  if (p === 0) return sorted[0]!
  // Rounded first, so that 99.9 % of 1000 values is rank 999 and not 1000 by a floating-point error.
  const rank = Math.ceil(Math.round((p / 100) * n * 1e9) / 1e9)
  return sorted[Math.min(n, Math.max(1, rank)) - 1]!
}

/** Rounds for reports (3 decimals by default); non-finite values pass through. */
export function round (value: number, digits = 3): number {
  if (!Number.isFinite(value)) return value
  const f = 10 ** digits
  return Math.round(value * f) / f
}

/** Summary of raw latencies in milliseconds (the input is not modified). */
export function summarize (latencies: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(latencies).sort()
  const n = sorted.length
  let sum = 0
  for (let i = 0; i < n; i++) sum += sorted[i]!
  return {
    count: n,
    min_ms: round(n === 0 ? Number.NaN : sorted[0]!),
    mean_ms: round(n === 0 ? Number.NaN : sum / n),
    p50_ms: round(percentile(sorted, 50)),
    p90_ms: round(percentile(sorted, 90)),
    p95_ms: round(percentile(sorted, 95)),
    p99_ms: round(percentile(sorted, 99)),
    p999_ms: round(percentile(sorted, 99.9)),
    max_ms: round(n === 0 ? Number.NaN : sorted[n - 1]!)
  }
}

/** Median of a few figures (e.g. one per measurement round); the mean of the two middle ones when even. */
export function median (values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  const n = finite.length
  if (n === 0) return Number.NaN
  const mid = Math.floor(n / 2)
  return n % 2 === 1 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2
}

/** a / b, or NaN when either is not a finite number or b is 0. */
export function ratio (a: number, b: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return Number.NaN
  return a / b
}

/** A growable array of doubles: recording a latency never allocates per request. */
export class LatencyRecorder {
  #values: Float64Array
  #length = 0

  constructor (initialCapacity = 1 << 16) {
    this.#values = new Float64Array(Math.max(16, initialCapacity))
  }

  get length (): number {
    return this.#length
  }

  record (value: number): void {
    if (this.#length === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2)
      grown.set(this.#values)
      this.#values = grown
    }
    this.#values[this.#length++] = value
  }

  /** A view of the recorded values (valid until the next record()). */
  values (): Float64Array {
    return this.#values.subarray(0, this.#length)
  }
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
  const buckets: number[][] = []
  for (let i = 0; i < Math.min(latencies.length, completedAt.length); i++) {
    const b = Math.max(0, Math.floor(completedAt[i]! / bucketMs))
    while (buckets.length <= b) buckets.push([])
    buckets[b]!.push(latencies[i]!)
  }
  return buckets.map((values, i) => {
    const sorted = Float64Array.from(values).sort()
    return { t_s: round((i * bucketMs) / 1000), responses: values.length, p50_ms: round(percentile(sorted, 50)), p95_ms: round(percentile(sorted, 95)) }
  })
}
