import { parsePrometheusText } from '@documind/harness'
import { describe, expect, it } from 'vitest'
import { buildBreakdown } from '../src/breakdown.js'
import type { Sample } from '../src/model.js'
import type { Scrape } from '../src/server-metrics.js'

/** One scrape of a 2-worker API: login requests (by status), hash and query histograms, CPU and event-loop time. */
function scrape (at: number, v: { ok: number, limited: number, okSum: number, wait: number, hash: number, pg: number, cpu: [number, number], busy: [number, number], scrapes: number, waiting?: number }): Scrape {
  const login = (status: number, n: number, sum: number, fast: number): string => [
    `http_request_duration_seconds_bucket{le="0.1",method="POST",route="/auth/login",status_code="${status}"} ${fast}`,
    `http_request_duration_seconds_bucket{le="1",method="POST",route="/auth/login",status_code="${status}"} ${n}`,
    `http_request_duration_seconds_bucket{le="+Inf",method="POST",route="/auth/login",status_code="${status}"} ${n}`,
    `http_request_duration_seconds_sum{method="POST",route="/auth/login",status_code="${status}"} ${sum}`,
    `http_request_duration_seconds_count{method="POST",route="/auth/login",status_code="${status}"} ${n}`
  ].join('\n')
  const hist = (name: string, n: number, sum: number): string =>
    `${name}_bucket{le="+Inf"} ${n}\n${name}_sum ${sum}\n${name}_count ${n}`
  const text = [
    login(200, v.ok, v.okSum, 0),
    login(429, v.limited, v.limited * 0.002, v.limited),
    `http_request_duration_seconds_bucket{le="0.1",method="GET",route="/metrics",status_code="200"} ${v.scrapes}`,
    `http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/metrics",status_code="200"} ${v.scrapes}`,
    `http_request_duration_seconds_sum{method="GET",route="/metrics",status_code="200"} ${v.scrapes * 0.01}`,
    `http_request_duration_seconds_count{method="GET",route="/metrics",status_code="200"} ${v.scrapes}`,
    hist('password_hash_queue_wait_seconds', v.ok, v.wait),
    hist('password_hash_duration_seconds', v.ok, v.hash),
    hist('pg_query_duration_seconds', v.ok, v.pg),
    `process_cpu_seconds_total{worker="0"} ${v.cpu[0]}`,
    `process_cpu_seconds_total{worker="1"} ${v.cpu[1]}`,
    `nodejs_eventloop_active_seconds_total{worker="0"} ${v.busy[0]}`,
    `nodejs_eventloop_active_seconds_total{worker="1"} ${v.busy[1]}`,
    `pg_pool_waiting_clients ${v.waiting ?? 0}`
  ].join('\n')
  return { at, samples: parsePrometheusText(text) }
}

const sample = (status: number, latencyMs: number, at: number, op = 'POST /auth/login'): Sample => ({ op, status, latencyMs, at, ok: true })

describe('buildBreakdown', () => {
  // Before: 100 earlier logins. During 2 s: 10 more answered 200 (8 s of server time: 7 s waiting for
  // a hash slot, 0.5 s hashing, 0.03 s PostgreSQL) and 10 answered 429; the scrapes themselves add 3.
  const before = scrape(0, { ok: 100, limited: 0, okSum: 50, wait: 40, hash: 5, pg: 0.3, cpu: [10, 10], busy: [5, 5], scrapes: 7 })
  const mid = scrape(1000, { ok: 104, limited: 10, okSum: 52, wait: 42, hash: 5.2, pg: 0.31, cpu: [10.2, 10.1], busy: [5.5, 5.25], scrapes: 8, waiting: 3 })
  const after = scrape(2000, { ok: 110, limited: 10, okSum: 58, wait: 47, hash: 5.5, pg: 0.33, cpu: [10.4, 10.2], busy: [6, 5.5], scrapes: 10 })
  const clientSamples = [
    ...Array.from({ length: 10 }, (_, i) => sample(429, 3, 100 + i)),
    ...Array.from({ length: 4 }, (_, i) => sample(200, 900, 800 + i)),
    ...Array.from({ length: 6 }, (_, i) => sample(200, 950, 1500 + i))
  ]

  it('turns two scrapes into per-route figures, the time split, CPU and event-loop utilisation', () => {
    const b = buildBreakdown('logins', { before, during: [mid], after }, clientSamples)
    expect(b.seconds).toBe(2)
    expect(b.requests).toBe(20)
    expect(b.meanMs).toBeCloseTo((8 + 0.02) / 20 * 1000, 6)
    expect(b.routes).toEqual([{ route: 'POST /auth/login', requests: 20, rateLimited: 10, p50Ms: 100, p95Ms: 910, clientRequests: 20, clientRateLimited: 10 }])
    const split = Object.fromEntries(b.split.map((p) => [p.key, p]))
    expect(split.hashWait).toMatchObject({ seconds: 7, perRequestMs: 350, count: 10 })
    expect(split.hashing).toMatchObject({ seconds: 0.5, perRequestMs: 25 })
    expect(split.postgres!.perRequestMs).toBeCloseTo(1.5, 6)
    expect(split.other!.seconds).toBeCloseTo(8.02 - 7.53, 6)
    expect(b.split.reduce((a, p) => a + p.share, 0)).toBeCloseTo(100, 0)
    expect(b.cpuMsPerRequest).toBeCloseTo(0.6 / 20 * 1000, 6)
    expect(b.workers).toEqual([{ worker: '0', cpuSeconds: 0.4, eventLoopUtilisation: 0.5 }, { worker: '1', cpuSeconds: 0.2, eventLoopUtilisation: 0.25 }])
    expect(b.peaks.pgPoolWaitingClients).toBe(3)
    expect(b.timeline).toHaveLength(2)
    expect(b.timeline[0]).toMatchObject({ t: 1, requests: 14, clientP95Ms: 900, eventLoop: { 0: 0.5, 1: 0.25 } })
    expect(b.timeline[1]).toMatchObject({ t: 2, requests: 6, clientP95Ms: 950, eventLoop: { 0: 0.5, 1: 0.25 } })
    expect(b.countCheck).toEqual({ ok: true, detail: '20 requests on 1 route(s), 429s included, counted alike by the server and the client' })
    expect(b.line).toBe('logins server p95 910 ms (client 950 ms), mean 401 ms: 350 ms waiting for a hash slot, 25.0 ms hashing, ' +
      '1.5 ms PostgreSQL, 24.5 ms other; CPU 30.0 ms per request; event loop busy 50% (worker 0), 25% (worker 1)')
  })

  it('reports a count that differs, and widens the range by the requests without an answer', () => {
    const short = clientSamples.slice(2)
    expect(buildBreakdown('logins', { before, during: [], after }, short).countCheck)
      .toEqual({ ok: false, detail: 'POST /auth/login: server 20, client 18 answered' })
    const unanswered = [...short, { ...sample(0, Number.NaN, 1900), error: 'timeout' }, { ...sample(0, Number.NaN, 1900), error: 'timeout' }]
    expect(buildBreakdown('logins', { before, during: [], after }, unanswered).countCheck.ok).toBe(true)
    expect(buildBreakdown('logins', { before, during: [], after }, short, 2).countCheck.ok).toBe(true)
    const wrong429 = clientSamples.map((s, i) => i === 0 ? { ...s, status: 200 } : s)
    expect(buildBreakdown('logins', { before, during: [], after }, wrong429).countCheck)
      .toEqual({ ok: false, detail: 'POST /auth/login: server 10 x 429, client 9 x 429' })
    const elsewhere = [...clientSamples, sample(200, 1, 5, 'GET /health')]
    expect(buildBreakdown('logins', { before, during: [], after }, elsewhere).countCheck.detail).toBe('GET /health: server 0, client 1 answered')
    // Requests to a route the client did not call in the phase: someone else's, flagged as uncertain.
    const foreign = buildBreakdown('logins', { before, during: [], after }, []).countCheck
    expect(foreign.ok).toBe(false)
    expect(foreign.uncertain).toBe('the server also counted requests the load tester did not send in this phase: POST /auth/login x 20')
  })

  it('leaves out a worker that joined between the scrapes, and calls a count that moved with it uncertain', () => {
    const joined = { at: 2000, samples: [...after.samples.map((x) => ({ ...x })), ...parsePrometheusText('process_cpu_seconds_total{worker="2"} 3\nnodejs_eventloop_active_seconds_total{worker="2"} 4\n')] }
    joined.samples.filter((x) => x.name === 'http_request_duration_seconds_count' && x.labels.status_code === '200').forEach((x) => { x.value += 1 })
    const b = buildBreakdown('logins', { before, during: [], after: joined }, clientSamples)
    expect(b.workers.map((w) => w.worker)).toEqual(['0', '1'])
    expect(b.countCheck.ok).toBe(false)
    expect(b.countCheck.uncertain).toBe('worker 2 joined between the scrapes, so the cluster\'s sums moved by its counts')
  })

  it('counts the PostgreSQL limit store\'s queries as limit-store time, not twice', () => {
    const limits = (n: number, sum: number): Scrape['samples'] => parsePrometheusText(
      `rate_limit_store_duration_seconds_bucket{le="+Inf",store="postgres"} ${n}\nrate_limit_store_duration_seconds_sum{store="postgres"} ${sum}\nrate_limit_store_duration_seconds_count{store="postgres"} ${n}\n`)
    const b = buildBreakdown('logins', { before: { ...before, samples: [...before.samples, ...limits(100, 0.2)] }, during: [], after: { ...after, samples: [...after.samples, ...limits(110, 0.22)] } }, clientSamples)
    const split = Object.fromEntries(b.split.map((p) => [p.key, p]))
    expect(split.limitStore).toMatchObject({ seconds: 0.02, count: 10 })
    expect(split.postgres!.seconds).toBeCloseTo(0.01, 6)
    expect(split.postgres!.count).toBe(0)
  })
})
