import { describe, expect, it } from 'vitest'
import { buckets, distribution, histogram, LatencyRecorder, median, percentile, ratio, round, sortNumbers } from '../src/stats.js'

describe('percentile (nearest rank)', () => {
  const one2ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]

  it('reads sorted[ceil(p/100 * n) - 1]', () => {
    expect(percentile(one2ten, 50)).toBe(5)
    expect(percentile(one2ten, 90)).toBe(9)
    expect(percentile(one2ten, 95)).toBe(10)
    expect(percentile(one2ten, 100)).toBe(10)
    expect(percentile(one2ten, 10)).toBe(1)
    expect(percentile(one2ten, 11)).toBe(2)
    expect(percentile(one2ten, 0)).toBe(1)
    expect(percentile([10, 20, 30, 40], 50)).toBe(20)
    expect(percentile([10, 20, 30, 40], 51)).toBe(30)
  })

  it('matches the textbook example (15, 20, 35, 40, 50)', () => {
    const v = [15, 20, 35, 40, 50]
    expect(percentile(v, 5)).toBe(15)
    expect(percentile(v, 30)).toBe(20)
    expect(percentile(v, 40)).toBe(20)
    expect(percentile(v, 50)).toBe(35)
    expect(percentile(v, 100)).toBe(50)
  })

  it('on 1..100: Pp is p', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1)
    for (const p of [1, 25, 50, 95, 99, 100]) expect(percentile(v, p)).toBe(p)
  })

  it('never interpolates', () => {
    expect(percentile([1, 1000], 50)).toBe(1)
    expect(percentile([1, 1000], 50.1)).toBe(1000)
  })

  it('is immune to floating-point rank errors (99.9 % of 1000 is rank 999)', () => {
    const v = Array.from({ length: 1000 }, (_, i) => i * 2)
    expect(percentile(v, 99)).toBe(989 * 2)
    expect(percentile(v, 99.9)).toBe(998 * 2)
    expect(percentile(one2ten, 70)).toBe(7)
  })

  it('works on typed arrays and single values; NaN when empty', () => {
    expect(percentile(Float64Array.of(5), 99)).toBe(5)
    expect(percentile([7], 99)).toBe(7)
    expect(percentile([], 50)).toBeNaN()
  })

  it('rejects p outside 0..100', () => {
    expect(() => percentile([1], -1)).toThrow(RangeError)
    expect(() => percentile([1], 101)).toThrow(RangeError)
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError)
  })
})

describe('distribution', () => {
  it('computes every figure from an unsorted input it leaves alone', () => {
    const input = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5]
    expect(distribution(input)).toEqual({ count: 10, min: 1, mean: 5.5, stddev: 2.872, p50: 5, p90: 9, p95: 10, p99: 10, p999: 10, max: 10 })
    expect(input).toEqual([10, 1, 9, 2, 8, 3, 7, 4, 6, 5])
  })

  it('rounds to microseconds', () => {
    expect(distribution([1.23456789]).p50).toBe(1.235)
  })

  it('gives NaN figures for no values', () => {
    const d = distribution([])
    expect(d.count).toBe(0)
    for (const key of ['min', 'mean', 'stddev', 'p50', 'p999', 'max'] as const) expect(d[key]).toBeNaN()
  })

  it('sorts numerically, not as strings', () => {
    expect(sortNumbers([10, 9, 100, 1])).toEqual([1, 9, 10, 100])
  })
})

describe('median, ratio, round', () => {
  it('median of odd and even counts, ignoring non-finite values', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 2, 3])).toBe(2.5)
    expect(median([Number.NaN, 7])).toBe(7)
    expect(median([])).toBeNaN()
  })

  it('ratio is NaN for a zero or missing denominator', () => {
    expect(ratio(1, 4)).toBe(0.25)
    expect(ratio(1, 0)).toBeNaN()
    expect(ratio(Number.NaN, 1)).toBeNaN()
  })

  it('round keeps non-finite values', () => {
    expect(round(1.23456, 2)).toBe(1.23)
    expect(round(Number.NaN)).toBeNaN()
  })
})

describe('histogram', () => {
  it('puts every value in one bin and covers min..max', () => {
    const values = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    const bins = histogram(values, 5)
    expect(bins).toHaveLength(5)
    expect(bins[0]!.from).toBe(0)
    expect(bins[4]!.to).toBe(10)
    expect(bins.map((b) => b.count)).toEqual([2, 2, 2, 2, 3])
  })

  it('is empty without values and never has more bins than values', () => {
    expect(histogram([])).toEqual([])
    expect(histogram([5, 5])).toHaveLength(2)
  })
})

describe('buckets', () => {
  it('groups by time, keeping empty buckets and at least the minimum count', () => {
    expect(buckets([10, 999, 1000, 3500, -5], (t) => t, 1000)).toEqual([[10, 999, -5], [1000], [], [3500]])
    expect(buckets([10], (t) => t, 1000, 3)).toEqual([[10], [], []])
    expect(buckets([], (t: number) => t, 1000)).toEqual([])
  })
})

describe('LatencyRecorder', () => {
  it('grows past its initial capacity and keeps every value', () => {
    const r = new LatencyRecorder(16)
    for (let i = 0; i < 1000; i++) r.record(i)
    expect(r.length).toBe(1000)
    expect(r.values()[999]).toBe(999)
    expect(distribution(r.values()).p50).toBe(499)
  })
})
