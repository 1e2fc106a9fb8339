// Pure statistics over raw latencies. Every value is kept (no sampling, no histogram
// approximation), sorted once, and percentiles are read from the sorted values by nearest rank.

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

/** Rounds for reports (3 decimals, i.e. microseconds of a millisecond figure, by default); non-finite values pass through. */
export function round (value: number, digits = 3): number {
  if (!Number.isFinite(value)) return value
  const f = 10 ** digits
  return Math.round(value * f) / f
}

/** An ascending numeric copy (never the string order of Array.prototype.sort). */
export function sortNumbers (values: ArrayLike<number>): number[] {
  return Array.from(Float64Array.from(values).sort())
}

export interface Distribution {
  count: number
  min: number
  mean: number
  /** Population standard deviation. */
  stddev: number
  p50: number
  p90: number
  p95: number
  p99: number
  p999: number
  max: number
}

/** Every figure of a set of values, rounded with round(); NaN figures when there are none. The input is not modified. */
export function distribution (values: ArrayLike<number>): Distribution {
  const sorted = Float64Array.from(values).sort()
  const n = sorted.length
  let sum = 0
  for (let i = 0; i < n; i++) sum += sorted[i]!
  const mean = n === 0 ? Number.NaN : sum / n
  let sq = 0
  for (let i = 0; i < n; i++) sq += (sorted[i]! - mean) ** 2
  return {
    count: n,
    min: round(n === 0 ? Number.NaN : sorted[0]!),
    mean: round(mean),
    stddev: round(n === 0 ? Number.NaN : Math.sqrt(sq / n)),
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    p999: round(percentile(sorted, 99.9)),
    max: round(n === 0 ? Number.NaN : sorted[n - 1]!)
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

export interface HistogramBin {
  /** Inclusive lower edge. */
  from: number
  /** Exclusive upper edge (inclusive for the last bin). */
  to: number
  count: number
}

/** Equal-width histogram between the minimum and the maximum, never more bins than values. */
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

/**
 * Items grouped by time into consecutive buckets of `bucketMs` from 0: bucket i holds the items
 * with i * bucketMs <= at(item) < (i + 1) * bucketMs (negative times count as 0). Empty buckets are
 * kept, and there are at least `minBuckets`.
 */
export function buckets<T> (items: Iterable<T>, at: (item: T) => number, bucketMs: number, minBuckets = 0): T[][] {
  const out: T[][] = Array.from({ length: minBuckets }, () => [])
  for (const item of items) {
    const b = Math.max(0, Math.floor(at(item) / bucketMs))
    while (out.length <= b) out.push([])
    out[b]!.push(item)
  }
  return out
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
