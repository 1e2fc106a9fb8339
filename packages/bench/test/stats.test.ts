import { describe, expect, it } from 'vitest'
import { LatencyRecorder, median, percentile, ratio, round, summarize, timeline } from '../src/stats.js'

describe('percentile (nearest rank)', () => {
  const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1)

  it('reads sorted[ceil(p/100 * n) - 1]', () => {
    expect(percentile(oneToHundred, 50)).toBe(50)
    expect(percentile(oneToHundred, 95)).toBe(95)
    expect(percentile(oneToHundred, 99)).toBe(99)
    expect(percentile(oneToHundred, 100)).toBe(100)
    expect(percentile(oneToHundred, 0)).toBe(1)
    expect(percentile([10, 20, 30, 40], 50)).toBe(20)
    expect(percentile([10, 20, 30, 40], 51)).toBe(30)
  })

  it('never interpolates', () => {
    expect(percentile([1, 1000], 50)).toBe(1)
    expect(percentile([1, 1000], 50.1)).toBe(1000)
  })

  it('is immune to floating-point rank errors (99.9 % of 1000 is rank 999)', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i + 1)
    expect(percentile(values, 99.9)).toBe(999)
    expect(percentile(Array.from({ length: 10 }, (_, i) => i + 1), 70)).toBe(7)
  })

  it('works on typed arrays and single values; NaN when empty', () => {
    expect(percentile(Float64Array.of(5), 99)).toBe(5)
    expect(Number.isNaN(percentile([], 50))).toBe(true)
  })

  it('rejects p outside 0..100', () => {
    expect(() => percentile([1], -1)).toThrow(RangeError)
    expect(() => percentile([1], 101)).toThrow(RangeError)
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError)
  })
})

describe('summarize', () => {
  it('sorts a copy and reports every percentile', () => {
    const input = [5, 1, 4, 2, 3]
    const s = summarize(input)
    expect(input).toEqual([5, 1, 4, 2, 3])
    expect(s).toEqual({ count: 5, min_ms: 1, mean_ms: 3, p50_ms: 3, p90_ms: 5, p95_ms: 5, p99_ms: 5, p999_ms: 5, max_ms: 5 })
  })

  it('rounds to microseconds', () => {
    expect(summarize([1.23456789]).p50_ms).toBe(1.235)
  })

  it('gives NaN figures for no values', () => {
    const s = summarize([])
    expect(s.count).toBe(0)
    expect(Number.isNaN(s.p99_ms)).toBe(true)
    expect(Number.isNaN(s.mean_ms)).toBe(true)
  })
})

describe('median, ratio, round', () => {
  it('median of odd and even counts, ignoring non-finite values', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 2, 3])).toBe(2.5)
    expect(median([Number.NaN, 7])).toBe(7)
    expect(Number.isNaN(median([]))).toBe(true)
  })

  it('ratio is NaN for a zero or missing denominator', () => {
    expect(ratio(1, 4)).toBe(0.25)
    expect(Number.isNaN(ratio(1, 0))).toBe(true)
    expect(Number.isNaN(ratio(Number.NaN, 1))).toBe(true)
  })

  it('round keeps non-finite values', () => {
    expect(round(1.23456, 2)).toBe(1.23)
    expect(Number.isNaN(round(Number.NaN))).toBe(true)
  })
})

describe('LatencyRecorder', () => {
  it('grows past its initial capacity and keeps every value', () => {
    const r = new LatencyRecorder(16)
    for (let i = 0; i < 1000; i++) r.record(i)
    expect(r.length).toBe(1000)
    expect(r.values()[999]).toBe(999)
    expect(summarize(r.values()).p50_ms).toBe(499)
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
