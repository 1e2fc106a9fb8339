import { freePort } from '@documind/harness'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { aggregateWorkers } from '../../../src/plugins/external/metrics.js'
import { buildTestApp, type TestApp } from '../../helpers/app.js'

const TOKEN = 'metrics-test-token-0123456789'

/** The value of one series in Prometheus text, e.g. `x_total{route="/a"}`. */
function sample (text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('aggregation of the workers\' registries', () => {
  async function worker (id: string, requests: number, durations: number[], heap: number) {
    const registry = new Registry()
    const counter = new Counter({ name: 'app_requests_total', help: 'h', labelNames: ['route'], registers: [registry] })
    const histogram = new Histogram({ name: 'app_duration_seconds', help: 'h', buckets: [0.1, 1], registers: [registry] })
    const gauge = new Gauge({ name: 'process_heap_bytes', help: 'h', labelNames: ['worker'], registers: [registry] })
    // As collectDefaultMetrics' process_start_time_seconds: its own aggregator would drop it.
    const start = new Gauge({ name: 'process_start_time_seconds', help: 'h', labelNames: ['worker'], aggregator: 'omit', registers: [registry] })
    counter.inc({ route: '/a' }, requests)
    for (const d of durations) histogram.observe(d)
    gauge.set({ worker: id }, heap)
    start.set({ worker: id }, 1000 + Number(id))
    return await registry.getMetricsAsJSON()
  }

  it('sums counters and histogram buckets, keeps worker-labelled gauges apart', async () => {
    const text = await aggregateWorkers([
      await worker('0', 3, [0.05, 0.5], 100),
      await worker('1', 4, [0.05, 5, 0.2], 200)
    ]).metrics()
    expect(sample(text, 'app_requests_total{route="/a"}')).toBe(7)
    expect(sample(text, 'app_duration_seconds_bucket{le="0.1"}')).toBe(2)
    expect(sample(text, 'app_duration_seconds_bucket{le="1"}')).toBe(4)
    expect(sample(text, 'app_duration_seconds_bucket{le="+Inf"}')).toBe(5)
    expect(sample(text, 'app_duration_seconds_count')).toBe(5)
    expect(sample(text, 'app_duration_seconds_sum')).toBeCloseTo(5.8)
    expect(sample(text, 'process_heap_bytes{worker="0"}')).toBe(100)
    expect(sample(text, 'process_heap_bytes{worker="1"}')).toBe(200)
    expect(sample(text, 'process_start_time_seconds{worker="0"}')).toBe(1000)
    expect(sample(text, 'process_start_time_seconds{worker="1"}')).toBe(1001)
  })
})

describe('GET /metrics', () => {
  describe('without METRICS_TOKEN or METRICS_PORT', () => {
    let t: TestApp
    beforeAll(async () => { t = await buildTestApp({ label: 'metrics_off', redis: false }) })
    afterAll(async () => { await t.close() })

    it('is a 404 like any unknown path', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
      expect(res.statusCode).toBe(404)
      expect(res.json()).toEqual({ success: false, message: 'Route GET /metrics not found' })
    })
  })

  describe('with METRICS_TOKEN', () => {
    let t: TestApp
    beforeAll(async () => { t = await buildTestApp({ label: 'metrics_on', redis: false, env: { METRICS_TOKEN: TOKEN } }) })
    afterAll(async () => { await t.close() })

    it('answers 401 without the token or with another one', async () => {
      for (const authorization of [undefined, 'Bearer wrong-token', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
        const res = await t.app.inject({ method: 'GET', url: '/metrics', headers: authorization === undefined ? {} : { authorization } })
        expect(res.statusCode, authorization).toBe(401)
      }
    })

    it('serves Prometheus text that counts requests by route pattern', async () => {
      const scrape = async () => await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
      const before = (await scrape()).body
      for (let i = 0; i < 5; i++) await t.app.inject({ method: 'GET', url: '/health' })
      for (let i = 0; i < 3; i++) await t.app.inject({ method: 'DELETE', url: `/documents/doc-${i}.pdf` })
      await t.app.inject({ method: 'GET', url: '/no/such/path' })
      const res = await scrape()
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8')
      const count = (text: string, labels: string) => sample(text, `http_request_duration_seconds_count{${labels}}`) ?? 0
      expect(count(res.body, 'method="GET",route="/health",status_code="200"') - count(before, 'method="GET",route="/health",status_code="200"')).toBe(5)
      // The route's pattern, never the raw URL.
      expect(res.body).toMatch(/http_request_duration_seconds_count\{method="DELETE",route="\/documents\/:document_name",status_code="401"\} 3\n/)
      expect(res.body).not.toContain('doc-1.pdf')
      expect(count(res.body, 'method="GET",route="unmatched",status_code="404"')).toBe(1)
      expect(res.body).toMatch(/nodejs_heap_size_used_bytes\{worker="0"\} \d+/)
    })

    it('measures rate-limit decisions, password hashing and PostgreSQL where they happen', async () => {
      const signup = await t.app.inject({ method: 'POST', url: '/auth/signup', payload: { email: 'metrics@example.com', password: 'secret12' } })
      expect(signup.statusCode).toBe(200)
      const text = (await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })).body
      expect(sample(text, 'rate_limit_decisions_total{route="/auth/signup",outcome="allowed"}')).toBe(1)
      expect(sample(text, 'rate_limit_store_duration_seconds_count{store="postgres"}')).toBeGreaterThanOrEqual(1)
      expect(sample(text, 'password_hash_duration_seconds_count{operation="hash"}')).toBe(1)
      expect(sample(text, 'password_hash_queue_wait_seconds_count')).toBeGreaterThanOrEqual(1)
      expect(sample(text, 'pg_pool_connections')).toBeGreaterThanOrEqual(1)
      expect(sample(text, 'pg_pool_waiting_clients')).toBe(0)
      expect(text).toMatch(/^pg_query_duration_seconds_count\{statement="[a-z_-]+"\} \d+$/m)
      expect(text).toContain('# TYPE groq_request_duration_seconds histogram')
      expect(text).toContain('# TYPE ingestion_queue_depth gauge')
    })
  })

  describe('with METRICS_PORT only', () => {
    let t: TestApp
    let port: number
    beforeAll(async () => {
      port = await freePort()
      t = await buildTestApp({ label: 'metrics_port', redis: false, env: { METRICS_PORT: String(port) } })
    })
    afterAll(async () => { await t.close() })

    it('serves /metrics on that port without a token, and not on the API port', async () => {
      expect((await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(404)
      await t.app.inject({ method: 'GET', url: '/health' })
      const res = await fetch(`http://127.0.0.1:${port}/metrics`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
      expect(sample(await res.text(), 'http_request_duration_seconds_count{method="GET",route="/health",status_code="200"}')).toBe(1)
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(404)
    })
  })
})
