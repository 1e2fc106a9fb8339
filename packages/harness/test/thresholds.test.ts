import { describe, expect, it } from 'vitest'
import { compare, evaluateThreshold, parseThreshold } from '../src/thresholds.js'

describe('parseThreshold', () => {
  it('keeps the source beside the metric, operator, number and unit', () => {
    expect(parseThreshold(' health.p95 < 50ms ')).toEqual({ source: 'health.p95 < 50ms', metric: 'health.p95', op: '<', value: 50, unit: 'ms' })
    expect(parseThreshold('login.ratio>=0.85')).toEqual({ source: 'login.ratio>=0.85', metric: 'login.ratio', op: '>=', value: 0.85, unit: '' })
    expect(parseThreshold('a-b.c=-2')).toMatchObject({ metric: 'a-b.c', op: '==', value: -2 })
  })

  it('rejects malformed text with the caller\'s hint', () => {
    expect(() => parseThreshold('health.p95')).toThrow('invalid threshold "health.p95": expected <metric><op><number>')
    expect(() => parseThreshold('<5', 'x<1')).toThrow('expected x<1')
  })
})

describe('evaluateThreshold', () => {
  const figures: Record<string, number> = { 'health.p95': 42, 'ask.ratio': Number.NaN }
  const read = (metric: string): number | undefined => figures[metric]

  it('reads the named metric and compares', () => {
    expect(evaluateThreshold(parseThreshold('health.p95<50'), read)).toEqual({ actual: 42, ok: true })
    expect(evaluateThreshold(parseThreshold('health.p95<40'), read)).toEqual({ actual: 42, ok: false })
  })

  it('has no verdict for a figure that was not measured', () => {
    expect(evaluateThreshold(parseThreshold('ingest.ratio>1'), read)).toEqual({ actual: null, ok: null })
    expect(evaluateThreshold(parseThreshold('ask.ratio>1'), read)).toEqual({ actual: null, ok: null })
  })

  it('compare covers every operator', () => {
    expect([compare(1, '<', 2), compare(2, '<=', 2), compare(3, '>', 2), compare(2, '>=', 2), compare(2, '==', 2), compare(1, '!=', 2)]).toEqual([true, true, true, true, true, true])
    expect([compare(2, '<', 2), compare(3, '<=', 2), compare(2, '>', 2), compare(1, '>=', 2), compare(1, '==', 2), compare(2, '!=', 2)]).toEqual([false, false, false, false, false, false])
  })
})
