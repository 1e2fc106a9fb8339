import { describe, expect, it } from 'vitest'
import { GOALS, evaluateGoals, getPath, goalText, meets } from '../src/goals.js'

describe('goals', () => {
  it('lists the nine goals with the JSON paths the report must contain', () => {
    expect(GOALS.map((g) => g.id)).toEqual([
      'health.stack_over_fastify', 'health.p99_over_fastify', 'health.metrics_cost', 'instructions.ratio',
      'login.ratio', 'ask.p95_over_latency',
      'ingest.health_p99_ms', 'ingest.ratio', 'memory.idle_rss_mb'
    ])
  })

  it('compares with the right operator, boundaries included where the goal says so', () => {
    expect(meets(0.8, '>=', 0.8)).toBe(true)
    expect(meets(0.79, '>=', 0.8)).toBe(false)
    expect(meets(1.15, '<=', 1.15)).toBe(true)
    expect(meets(10, '<', 10)).toBe(false)
    expect(meets(9.99, '<', 10)).toBe(true)
  })

  it('reads dotted paths', () => {
    expect(getPath({ a: { b: { c: 3 } } }, 'a.b.c')).toBe(3)
    expect(getPath({ a: null }, 'a.b')).toBeUndefined()
    expect(getPath(undefined, 'a')).toBeUndefined()
  })

  it('evaluates measured figures and marks missing ones as not measured', () => {
    const result = {
      health: { stack_over_fastify: 0.9, p99_over_fastify: 1.3, metrics_cost: 0.01 },
      instructions: { ratio: 1.2 },
      login: { ratio: Number.NaN },
      ask: { p95_over_latency: 1.1 },
      memory: { idle_rss_mb: 119.9 }
    }
    const byId = Object.fromEntries(evaluateGoals(result).map((g) => [g.id, g]))
    expect(byId['health.stack_over_fastify']).toMatchObject({ value: 0.9, met: true })
    expect(byId['health.p99_over_fastify']).toMatchObject({ value: 1.3, met: false })
    expect(byId['health.metrics_cost']).toMatchObject({ value: 0.01, met: true })
    expect(byId['instructions.ratio']).toMatchObject({ value: 1.2, met: false })
    expect(byId['login.ratio']).toMatchObject({ value: null, met: null })
    expect(byId['ask.p95_over_latency']).toMatchObject({ value: 1.1, met: true })
    expect(byId['ingest.ratio']).toMatchObject({ value: null, met: null })
    expect(byId['memory.idle_rss_mb']).toMatchObject({ value: 119.9, met: true, unit: 'MB' })
  })

  it('formats goals for the table', () => {
    expect(goalText({ op: '<', target: 25, unit: 'ms' })).toBe('< 25 ms')
    expect(goalText({ op: '>=', target: 0.8, unit: '' })).toBe('>= 0.8')
  })
})
