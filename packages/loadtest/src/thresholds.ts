// k6-style thresholds: "<scenario>.<metric><op><number>", e.g. "health.p95<50", "overall.successRate>=95",
// parsed and judged by the harness's threshold engine over the load test's named metrics.
import { evaluateThreshold as judge, parseThreshold as parseNamedThreshold, type ThresholdOp } from '@documind/harness'

export type { ThresholdOp }

export interface Threshold {
  source: string
  scenario: string
  metric: string
  op: ThresholdOp
  value: number
}

/** Metric name → what it reads and its unit. Latencies are ms, rates are percent. */
export const METRICS: Record<string, { unit: 'ms' | '%' | '/s' | 'count', description: string }> = {
  p50: { unit: 'ms', description: 'median latency (nearest rank)' },
  median: { unit: 'ms', description: 'same as p50' },
  p90: { unit: 'ms', description: '90th percentile latency' },
  p95: { unit: 'ms', description: '95th percentile latency' },
  p99: { unit: 'ms', description: '99th percentile latency' },
  avg: { unit: 'ms', description: 'mean latency' },
  min: { unit: 'ms', description: 'fastest answer' },
  max: { unit: 'ms', description: 'slowest answer' },
  rps: { unit: '/s', description: 'requests per second' },
  successRate: { unit: '%', description: 'successful / total x 100' },
  errorRate: { unit: '%', description: 'failed / total x 100' },
  total: { unit: 'count', description: 'requests made' },
  successful: { unit: 'count', description: 'answers as expected' },
  failed: { unit: 'count', description: 'total - successful' },
  rateLimited: { unit: 'count', description: '429 answers' },
  errors: { unit: 'count', description: 'requests without an answer' },
  timeouts: { unit: 'count', description: 'requests that timed out' },
  http2xx: { unit: 'count', description: '2xx answers' },
  http4xx: { unit: 'count', description: '4xx answers' },
  http5xx: { unit: 'count', description: '5xx answers' }
}

const METRIC_ALIASES: Record<string, string> = {
  median: 'p50',
  mean: 'avg',
  success_rate: 'successRate',
  error_rate: 'errorRate',
  successrate: 'successRate',
  errorrate: 'errorRate',
  ratelimited: 'rateLimited'
}

const SYNTAX = '<scenario>.<metric><op><number>, e.g. health.p95<50'
const NAME_RE = /^([A-Za-z][\w-]*)\.([A-Za-z]\w*)$/

/**
 * Parses one threshold. `knownScenarios` lists valid scenario names ("overall" is always valid).
 * Units are optional: "2s" is read as 2000 for latency metrics, "%" is accepted for rates.
 */
export function parseThreshold (source: string, knownScenarios: readonly string[]): Threshold {
  const parsed = parseNamedThreshold(source, SYNTAX)
  const name = NAME_RE.exec(parsed.metric)
  const unit = parsed.unit
  if (name === null || !['', 'ms', 's', '%'].includes(unit)) throw new Error(`invalid threshold "${source}": expected ${SYNTAX}`)
  const scenario = name[1]!
  const metricRaw = name[2]!
  const metric = METRIC_ALIASES[metricRaw] ?? METRIC_ALIASES[metricRaw.toLowerCase()] ?? metricRaw
  if (scenario !== 'overall' && !knownScenarios.includes(scenario)) {
    throw new Error(`invalid threshold "${source}": unknown scenario "${scenario}" (use one of ${[...knownScenarios, 'overall'].join(', ')})`)
  }
  const def = METRICS[metric]
  if (def === undefined) {
    throw new Error(`invalid threshold "${source}": unknown metric "${metricRaw}" (use one of ${Object.keys(METRICS).join(', ')})`)
  }
  let value = parsed.value
  if (unit === 's' || unit === 'ms') {
    if (def.unit !== 'ms') throw new Error(`invalid threshold "${source}": "${unit}" only applies to latency metrics`)
    if (unit === 's') value *= 1000
  } else if (unit === '%' && def.unit !== '%') {
    throw new Error(`invalid threshold "${source}": "%" only applies to successRate and errorRate`)
  }
  return { source: parsed.source, scenario, metric, op: parsed.op, value }
}

/** The figures a threshold can read, for one scenario or for the pooled run. */
export interface MetricSource {
  latency: { p50: number, p90: number, p95: number, p99: number, avg: number, min: number, max: number, count: number }
  rps: number
  successRate: number
  errorRate: number
  total: number
  successful: number
  failed: number
  rateLimited: number
  errors: number
  timeouts: number
  http2xx: number
  http4xx: number
  http5xx: number
}

export function readMetric (src: MetricSource, metric: string): number {
  switch (metric) {
    case 'p50': case 'p90': case 'p95': case 'p99': case 'avg': case 'min': case 'max':
      return src.latency[metric]
    case 'rps': case 'successRate': case 'errorRate': case 'total': case 'successful': case 'failed':
    case 'rateLimited': case 'errors': case 'timeouts': case 'http2xx': case 'http4xx': case 'http5xx':
      return src[metric]
    default:
      throw new Error(`unknown metric ${metric}`)
  }
}

export interface ThresholdResult {
  threshold: Threshold
  ok: boolean
  actual: number | undefined
  detail: string
}

const fmt = (v: number, unit: string): string => {
  const n = Number.isInteger(v) ? String(v) : v.toFixed(2)
  return unit === 'count' ? n : unit === '/s' ? `${n}/s` : `${n}${unit === '%' ? '%' : ' ms'}`
}

/** Evaluates a threshold; a threshold on a scenario that did not run fails. */
export function evaluateThreshold (t: Threshold, src: MetricSource | undefined): ThresholdResult {
  const unit = METRICS[t.metric]!.unit
  if (src === undefined) return { threshold: t, ok: false, actual: undefined, detail: `scenario "${t.scenario}" did not run` }
  const latencyMetric = unit === 'ms'
  if (latencyMetric && src.latency.count === 0) {
    return { threshold: t, ok: false, actual: undefined, detail: 'no answered requests to measure' }
  }
  const { actual, ok } = judge(t, (metric) => readMetric(src, metric))
  if (actual === null) return { threshold: t, ok: false, actual: undefined, detail: 'no figure to measure' }
  return { threshold: t, ok: ok === true, actual, detail: `actual ${fmt(actual, unit)} (required ${t.op} ${fmt(t.value, unit)})` }
}
