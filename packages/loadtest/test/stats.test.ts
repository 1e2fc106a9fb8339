import { describe, expect, it } from 'vitest'
import { summarize, timeline } from '../src/stats.js'

// The statistics themselves are tested in packages/harness; these are the load test's report shapes.
describe('summarize', () => {
  it('computes every figure from unsorted input', () => {
    const s = summarize([10, 1, 9, 2, 8, 3, 7, 4, 6, 5])
    expect(s).toEqual({ count: 10, avg: 5.5, p50: 5, p90: 9, p95: 10, p99: 10, min: 1, max: 10, stddev: 2.872 })
  })

  it('is all zeros when empty', () => {
    expect(summarize([])).toMatchObject({ count: 0, avg: 0, p95: 0, min: 0, max: 0 })
  })
})

describe('timeline', () => {
  it('counts completions per 1 s bucket, keeping empty seconds', () => {
    const t = timeline([
      { at: 10, ok: true, status: 200 },
      { at: 999, ok: false, status: 500 },
      { at: 1000, ok: true, status: 429 },
      { at: 3500, ok: true, status: 200 }
    ], 3600)
    expect(t).toEqual([
      { second: 0, count: 2, failed: 1, rateLimited: 0 },
      { second: 1, count: 1, failed: 0, rateLimited: 1 },
      { second: 2, count: 0, failed: 0, rateLimited: 0 },
      { second: 3, count: 1, failed: 0, rateLimited: 0 }
    ])
  })
})
