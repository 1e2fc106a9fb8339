import { describe, expect, it } from 'vitest'
import { summarize, timeline } from '../src/stats.js'

// The statistics themselves are tested in packages/harness; these are the bench's report shapes.
describe('summarize', () => {
  it('sorts a copy and reports every percentile', () => {
    const input = [5, 1, 4, 2, 3]
    const s = summarize(input)
    expect(input).toEqual([5, 1, 4, 2, 3])
    expect(s).toEqual({ count: 5, min_ms: 1, mean_ms: 3, p50_ms: 3, p90_ms: 5, p95_ms: 5, p99_ms: 5, p999_ms: 5, max_ms: 5 })
  })

  it('gives NaN figures for no values', () => {
    const s = summarize([])
    expect(s.count).toBe(0)
    expect(s.p99_ms).toBeNaN()
    expect(s.mean_ms).toBeNaN()
  })
})

describe('timeline', () => {
  it('buckets latencies by completion time, keeping empty buckets', () => {
    const t = timeline([10, 20, 30, 40], [100, 200, 2100, 2200], 1000)
    expect(t).toEqual([
      { t_s: 0, responses: 2, p50_ms: 10, p95_ms: 20 },
      { t_s: 1, responses: 0, p50_ms: Number.NaN, p95_ms: Number.NaN },
      { t_s: 2, responses: 2, p50_ms: 30, p95_ms: 40 }
    ])
  })
})
