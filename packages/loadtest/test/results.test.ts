import { describe, expect, it } from 'vitest'
import type { Sample } from '../src/model.js'
import { buildOverall, buildScenarioResult } from '../src/results.js'

const sample = (status: number, latencyMs: number, ok: boolean, at = 0, op = 'GET /x'): Sample =>
  ({ op, status, latencyMs, at, ok })

function result (name: 'health' | 'sustained', samples: Sample[], durationMs: number, settings: Record<string, number> = {}) {
  return buildScenarioResult({ name, title: name, description: '', setupMs: 5, checks: [], notes: [], settings },
    { samples, startedAt: new Date(0), durationMs, timeouts: 0, unfinished: 0 }).result
}

describe('scenario figures', () => {
  it('counts successful, failed, 429s, expected refusals and errors', () => {
    const r = result('health', [
      sample(200, 10, true),
      sample(200, 20, true),
      sample(429, 1, true),
      sample(429, 2, false),
      sample(401, 5, true),
      sample(500, 30, false),
      sample(0, Number.NaN, false)
    ], 2000)
    expect(r).toMatchObject({
      total: 7,
      successful: 4,
      failed: 3,
      rateLimited: 2,
      rateLimitedExpected: 1,
      expectedRejections: 1,
      http2xx: 2,
      http4xx: 3,
      http5xx: 1,
      errors: 1,
      rps: 3.5,
      statusCodes: { 200: 2, 401: 1, 429: 2, 500: 1 }
    })
    expect(r.successRate).toBeCloseTo(57.143, 3)
    expect(r.errorRate).toBeCloseTo(42.857, 3)
    // Latency over the 6 answers; the request without answer has none.
    expect(r.latency).toMatchObject({ count: 6, min: 1, max: 30, p50: 5 })
    expect(r.operations['GET /x']!.total).toBe(7)
  })
})

describe('overall figures', () => {
  it('pools latencies and leaves the paced scenario out of the throughput the criteria judge', () => {
    const a = result('health', [sample(200, 10, true), sample(200, 30, true)], 1000)
    const bSamples = Array.from({ length: 10 }, (_, i) => sample(200, 100 + i, true, i * 100))
    const b = result('sustained', bSamples, 10_000, { targetRate: 1 })
    const o = buildOverall([a, b], [sample(200, 10, true), sample(200, 30, true), ...bSamples])
    expect(o.total).toBe(12)
    expect(o.rps).toBe(2)
    expect(o.rpsAll).toBe(1.09)
    expect(o.latency.max).toBe(109)
    expect(o.latency.min).toBe(10)
    expect(o.successRate).toBe(100)
  })
})
