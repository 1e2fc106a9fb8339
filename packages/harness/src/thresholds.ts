// k6-like thresholds: "<metric><op><number>[unit]" over named metrics, e.g. "health.p95<50" or
// "login.ratio>=0.85". Parsed once; the source text is kept beside the parsed form for reports.

export type ThresholdOp = '<' | '<=' | '>' | '>=' | '==' | '!='

export interface Threshold {
  /** The text as written (trimmed). */
  source: string
  /** The metric's name, e.g. "health.p95". */
  metric: string
  op: ThresholdOp
  value: number
  /** The unit written after the number ("" when none); the caller decides what it means. */
  unit: string
}

const THRESHOLD_RE = /^\s*([A-Za-z][\w.-]*?)\s*(<=|>=|==|!=|=|<|>)\s*(-?\d+(?:\.\d+)?)\s*([A-Za-z%]*)\s*$/

/** Parses "<metric><op><number>[unit]" ("=" is read as "=="); throws with `expected` as the hint. */
export function parseThreshold (source: string, expected = '<metric><op><number>'): Threshold {
  const m = THRESHOLD_RE.exec(source)
  if (m === null) throw new Error(`invalid threshold "${source}": expected ${expected}`)
  return { source: source.trim(), metric: m[1]!, op: (m[2] === '=' ? '==' : m[2]) as ThresholdOp, value: Number(m[3]), unit: m[4]! }
}

export function compare (actual: number, op: ThresholdOp, expected: number): boolean {
  switch (op) {
    case '<': return actual < expected
    case '<=': return actual <= expected
    case '>': return actual > expected
    case '>=': return actual >= expected
    case '==': return actual === expected
    case '!=': return actual !== expected
  }
}

export interface ThresholdVerdict {
  /** The figure read, or null when the run did not measure it. */
  actual: number | null
  /** null when there is no figure to judge. */
  ok: boolean | null
}

/** Judges a threshold against `read(metric)`; a missing or non-finite figure gives ok: null. */
export function evaluateThreshold (t: Pick<Threshold, 'metric' | 'op' | 'value'>, read: (metric: string) => number | undefined): ThresholdVerdict {
  const actual = read(t.metric)
  if (actual === undefined || !Number.isFinite(actual)) return { actual: null, ok: null }
  return { actual, ok: compare(actual, t.op, t.value) }
}
