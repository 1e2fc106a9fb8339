// The issue's goals and their evaluation (pure).
import type { GoalResult } from './types.js'

export interface GoalSpec {
  /** Dotted path of the figure in the result JSON. */
  id: string
  label: string
  op: '>=' | '<=' | '<'
  target: number
  unit: string
}

export const GOALS: readonly GoalSpec[] = [
  { id: 'health.ratio', label: 'GET /health req/s: full stack / bare node:http cluster', op: '>=', target: 0.8, unit: '' },
  { id: 'health.p99_ms', label: 'GET /health p99 at 100 connections', op: '<', target: 10, unit: 'ms' },
  { id: 'login.ratio', label: 'POST /auth/login req/s / bcrypt ceiling', op: '>=', target: 0.85, unit: '' },
  { id: 'ask.p95_over_latency', label: 'POST /ask p95 / LLM latency L (200 connections)', op: '<=', target: 1.15, unit: '' },
  { id: 'ingest.health_p99_ms', label: 'GET /health p99 while a PDF ingests', op: '<', target: 25, unit: 'ms' },
  { id: 'ingest.ratio', label: 'pdf-parse alone time / POST /upload time', op: '>=', target: 0.8, unit: '' },
  { id: 'memory.idle_rss_mb', label: 'RSS per worker, idle (largest worker)', op: '<', target: 120, unit: 'MB' }
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

export function meets (value: number, op: GoalSpec['op'], target: number): boolean {
  switch (op) {
    case '>=': return value >= target
    case '<=': return value <= target
    case '<': return value < target
  }
}

/** Every goal with its measured value; `met` is null for figures the run did not measure. */
export function evaluateGoals (result: unknown, goals: readonly GoalSpec[] = GOALS): GoalResult[] {
  return goals.map((goal) => {
    const raw = getPath(result, goal.id)
    const value = typeof raw === 'number' && Number.isFinite(raw) ? raw : null
    return { ...goal, value, met: value === null ? null : meets(value, goal.op, goal.target) }
  })
}

export function goalText (goal: Pick<GoalSpec, 'op' | 'target' | 'unit'>): string {
  return `${goal.op} ${goal.target}${goal.unit === '' ? '' : ` ${goal.unit}`}`
}
