// The Prometheus text format (what GET /metrics answers), read back: the load tester turns two
// scrapes into per-scenario figures, and tests compare what the server counted with what they sent.

export interface PromSample {
  /** Series name as written, e.g. `http_request_duration_seconds_bucket`. */
  name: string
  labels: Record<string, string>
  value: number
}

export type LabelFilter = Record<string, string | ((value: string) => boolean)>

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?\s*$/

function parseValue (text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY
  if (text === '-Inf') return Number.NEGATIVE_INFINITY
  return Number(text)
}

function parseLabels (text: string): Record<string, string> {
  const labels: Record<string, string> = {}
  let i = 0
  while (i < text.length) {
    while (text[i] === ',' || text[i] === ' ') i++
    const eq = text.indexOf('=', i)
    if (eq < 0) break
    const key = text.slice(i, eq).trim()
    i = eq + 1
    if (text[i] !== '"') throw new Error(`label ${key}: value not quoted`)
    i++
    let value = ''
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') {
        const next = text[i + 1]
        value += next === 'n' ? '\n' : next ?? ''
        i += 2
      } else {
        value += text[i]
        i++
      }
    }
    i++
    labels[key] = value
  }
  return labels
}

/** Every sample of an exposition (comments and blank lines skipped); throws on a malformed line. */
export function parsePrometheusText (text: string): PromSample[] {
  const out: PromSample[] = []
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const m = LINE.exec(line)
    if (m === null) throw new Error(`not a Prometheus sample line: ${line.slice(0, 120)}`)
    out.push({ name: m[1]!, labels: m[2] === undefined ? {} : parseLabels(m[2]), value: parseValue(m[3]!) })
  }
  return out
}

export function matches (labels: Record<string, string>, filter: LabelFilter = {}): boolean {
  for (const [key, want] of Object.entries(filter)) {
    const have = labels[key] ?? ''
    if (typeof want === 'function' ? !want(have) : have !== want) return false
  }
  return true
}

/** Sum of the samples of one series name whose labels pass the filter. */
export function sumOf (samples: readonly PromSample[], name: string, filter: LabelFilter = {}): number {
  let total = 0
  for (const s of samples) if (s.name === name && matches(s.labels, filter)) total += s.value
  return total
}

/** Sums grouped by the given labels, keyed by their values joined with a space. */
export function sumBy (samples: readonly PromSample[], name: string, by: readonly string[], filter: LabelFilter = {}): Map<string, number> {
  const out = new Map<string, number>()
  for (const s of samples) {
    if (s.name !== name || !matches(s.labels, filter)) continue
    const key = by.map((l) => s.labels[l] ?? '').join(' ')
    out.set(key, (out.get(key) ?? 0) + s.value)
  }
  return out
}

const seriesKey = (s: PromSample): string => `${s.name}{${Object.keys(s.labels).sort().map((k) => `${k}=${s.labels[k]!}`).join(',')}}`

/**
 * after - before, series by series, for counters and histograms. A series that shrank was reset
 * (its worker restarted), so its whole current value is what was counted since, as Prometheus'
 * increase() reads it. Gauges are not differences: callers read those from one scrape.
 */
export function deltaOf (before: readonly PromSample[], after: readonly PromSample[]): PromSample[] {
  const prior = new Map<string, number>()
  for (const s of before) prior.set(seriesKey(s), s.value)
  return after.map((s) => {
    const was = prior.get(seriesKey(s)) ?? 0
    return { ...s, value: s.value >= was ? s.value - was : s.value }
  })
}

export interface Bucket { le: number, count: number }

/** A histogram's cumulative buckets (summed over the matching series), by upper bound. */
export function bucketsOf (samples: readonly PromSample[], histogram: string, filter: LabelFilter = {}): Bucket[] {
  const byLe = new Map<number, number>()
  for (const s of samples) {
    if (s.name !== `${histogram}_bucket` || !matches(s.labels, filter)) continue
    const le = parseValue(s.labels.le ?? '+Inf')
    byLe.set(le, (byLe.get(le) ?? 0) + s.value)
  }
  return [...byLe].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le)
}

/**
 * Prometheus' histogram_quantile: the bucket holding the q-th observation, interpolated linearly
 * inside it (from 0 for the first bucket); the +Inf bucket gives the highest finite bound.
 * NaN without observations.
 */
export function histogramQuantile (q: number, buckets: readonly Bucket[]): number {
  if (buckets.length === 0) return Number.NaN
  const total = buckets[buckets.length - 1]!.count
  if (!(total > 0)) return Number.NaN
  const rank = q * total
  let prevLe = 0
  let prevCount = 0
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Number.POSITIVE_INFINITY) return prevLe
      if (b.count === prevCount) return b.le
      return prevLe + (b.le - prevLe) * ((rank - prevCount) / (b.count - prevCount))
    }
    prevLe = b.le
    prevCount = b.count
  }
  return prevLe
}

/** Observations and total of a histogram (its `_count` and `_sum`) over the matching series. */
export function histogramTotals (samples: readonly PromSample[], histogram: string, filter: LabelFilter = {}): { count: number, sum: number } {
  return { count: sumOf(samples, `${histogram}_count`, filter), sum: sumOf(samples, `${histogram}_sum`, filter) }
}
