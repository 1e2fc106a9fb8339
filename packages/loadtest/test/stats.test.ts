import { describe, expect, it } from 'vitest'
import { histogram, percentile, sortNumbers, summarize, timeline } from '../src/stats.js'

describe('percentile (nearest rank)', () => {
  const one2ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]

  it('reads sorted[ceil(p/100 * n) - 1]', () => {
    expect(percentile(one2ten, 50)).toBe(5)
    expect(percentile(one2ten, 90)).toBe(9)
    expect(percentile(one2ten, 95)).toBe(10)
    expect(percentile(one2ten, 99)).toBe(10)
    expect(percentile(one2ten, 100)).toBe(10)
    expect(percentile(one2ten, 10)).toBe(1)
    expect(percentile(one2ten, 11)).toBe(2)
    expect(percentile(one2ten, 0)).toBe(1)
  })

  it('matches the textbook example (15, 20, 35, 40, 50)', () => {
    const v = [15, 20, 35, 40, 50]
    expect(percentile(v, 5)).toBe(15)
    expect(percentile(v, 30)).toBe(20)
    expect(percentile(v, 40)).toBe(20)
    expect(percentile(v, 50)).toBe(35)
    expect(percentile(v, 100)).toBe(50)
  })

  it('on 1..100: Pp is p, and the lower middle for an even count median', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1)
    for (const p of [1, 25, 50, 95, 99, 100]) expect(percentile(v, p)).toBe(p)
    expect(percentile([1, 2, 3, 4], 50)).toBe(2)
  })

  it('on 1000 values P99 is the 990th', () => {
    const v = Array.from({ length: 1000 }, (_, i) => i * 2)
    expect(percentile(v, 99)).toBe(989 * 2)
    expect(percentile(v, 99.9)).toBe(998 * 2)
  })

  it('handles one value, empty input and bad p', () => {
    expect(percentile([7], 99)).toBe(7)
    expect(percentile([], 50)).toBeNaN()
    expect(() => percentile([1], 101)).toThrow(RangeError)
    expect(() => percentile([1], -1)).toThrow(RangeError)
  })
})

describe('summarize', () => {
  it('computes every figure from unsorted input', () => {
    const s = summarize([10, 1, 9, 2, 8, 3, 7, 4, 6, 5])
    expect(s).toEqual({ count: 10, avg: 5.5, p50: 5, p90: 9, p95: 10, p99: 10, min: 1, max: 10, stddev: 2.872 })
  })

  it('is all zeros when empty', () => {
    expect(summarize([])).toMatchObject({ count: 0, avg: 0, p95: 0, min: 0, max: 0 })
  })

  it('sorts numerically, not as strings', () => {
    expect(sortNumbers([10, 9, 100, 1])).toEqual([1, 9, 10, 100])
  })
})

describe('histogram', () => {
  it('puts every value in one bin and covers min..max', () => {
    const values = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    const bins = histogram(values, 5)
    expect(bins).toHaveLength(5)
    expect(bins.reduce((a, b) => a + b.count, 0)).toBe(values.length)
    expect(bins[0]!.from).toBe(0)
    expect(bins[4]!.to).toBe(10)
    expect(bins.map((b) => b.count)).toEqual([2, 2, 2, 2, 3])
  })

  it('is empty without values and never has more bins than values', () => {
    expect(histogram([])).toEqual([])
    expect(histogram([5, 5])).toHaveLength(2)
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
