// The bench's goals, written as thresholds over the result JSON's dotted paths and judged by the
// harness's threshold engine (pure).
import { evaluateThreshold, parseThreshold, type ThresholdOp } from '@documind/harness'
import type { GoalResult } from './types.js'

export { compare as meets } from '@documind/harness'

export interface GoalSpec {
  /** Dotted path of the figure in the result JSON. */
  id: string
  label: string
  op: ThresholdOp
  target: number
  unit: string
}

/** A goal from its threshold text, e.g. "health.p99_ms<10ms": the metric is the JSON path. */
function goal (source: string, label: string): GoalSpec {
  const t = parseThreshold(source)
  return { id: t.metric, label, op: t.op, target: t.value, unit: t.unit }
}

export const GOALS: readonly GoalSpec[] = [
  goal('health.stack_over_fastify>=0.9', 'GET /health req/s: full stack / bare Fastify cluster'),
  goal('health.p99_over_fastify<=1.25', 'GET /health p99: full stack / bare Fastify cluster (100 connections)'),
  goal('health.metrics_cost<=0.03', 'GET /health req/s lost to metrics: 1 - stack / stack without metrics'),
  goal('instructions.ratio<=1.15', 'instructions per GET /health (callgrind): API process / bare Fastify process'),
  goal('login.ratio>=0.85', 'POST /auth/login req/s / bcrypt ceiling'),
  goal('ask.p95_over_latency<=1.1', 'POST /ask p95 / LLM latency L (200 connections)'),
  goal('ingest.health_p99_ms<25ms', 'GET /health p99 while a PDF ingests'),
  goal('ingest.ratio>=0.8', 'pdf-parse alone time / POST /upload time'),
  goal('memory.idle_rss_mb<120MB', 'RSS per worker, idle (largest worker)')
]

/** Reads a dotted path (`login.ratio`) from a JSON-like object; undefined when absent. */
export function getPath (object: unknown, path: string): unknown {
  let current: unknown = object
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined
    current = (current as Record<string, unknown>)[key]
  }
  return current
}

/** Every goal with its measured value; `met` is null for figures the run did not measure. */
export function evaluateGoals (result: unknown, goals: readonly GoalSpec[] = GOALS): GoalResult[] {
  return goals.map((goal) => {
    const { actual, ok } = evaluateThreshold({ metric: goal.id, op: goal.op, value: goal.target }, (path) => {
      const raw = getPath(result, path)
      return typeof raw === 'number' ? raw : undefined
    })
    return { ...goal, value: actual, met: ok }
  })
}

export function goalText (goal: Pick<GoalSpec, 'op' | 'target' | 'unit'>): string {
  return `${goal.op} ${goal.target}${goal.unit === '' ? '' : ` ${goal.unit}`}`
}
