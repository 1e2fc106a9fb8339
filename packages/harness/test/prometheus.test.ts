import { describe, expect, it } from 'vitest'
import { bucketsOf, deltaOf, histogramQuantile, histogramTotals, parsePrometheusText, sumBy, sumOf } from '../src/prometheus.js'

const TEXT = `# HELP http_request_duration_seconds Duration of HTTP requests in seconds
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.1",method="GET",route="/health",status_code="200"} 8
http_request_duration_seconds_bucket{le="1",method="GET",route="/health",status_code="200"} 10
http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/health",status_code="200"} 10
http_request_duration_seconds_sum{method="GET",route="/health",status_code="200"} 1.5
http_request_duration_seconds_count{method="GET",route="/health",status_code="200"} 10
http_request_duration_seconds_bucket{le="0.1",method="GET",route="/health",status_code="500"} 0
http_request_duration_seconds_bucket{le="1",method="GET",route="/health",status_code="500"} 2
http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/health",status_code="500"} 2
http_request_duration_seconds_sum{method="GET",route="/health",status_code="500"} 1
http_request_duration_seconds_count{method="GET",route="/health",status_code="500"} 2
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total{worker="0"} 12.5
process_cpu_seconds_total{worker="1"} 7.25 1700000000000
odd_label{path="a \\"quoted\\" \\\\ back\\nslash",x="1,2"} -Inf
`

describe('parsePrometheusText', () => {
  it('reads names, labels (escapes and commas included), values and timestamps', () => {
    const samples = parsePrometheusText(TEXT)
    expect(samples).toHaveLength(13)
    expect(samples[0]).toEqual({ name: 'http_request_duration_seconds_bucket', labels: { le: '0.1', method: 'GET', route: '/health', status_code: '200' }, value: 8 })
    expect(samples[11]).toEqual({ name: 'process_cpu_seconds_total', labels: { worker: '1' }, value: 7.25 })
    expect(samples[12]!.labels).toEqual({ path: 'a "quoted" \\ back\nslash', x: '1,2' })
    expect(samples[12]!.value).toBe(Number.NEGATIVE_INFINITY)
  })

  it('refuses a line that is not a sample', () => {
    expect(() => parsePrometheusText('<html>not metrics</html>')).toThrow(/not a Prometheus sample line/)
  })

  it('sums by name, filter and group', () => {
    const samples = parsePrometheusText(TEXT)
    expect(sumOf(samples, 'http_request_duration_seconds_count')).toBe(12)
    expect(sumOf(samples, 'http_request_duration_seconds_count', { status_code: '500' })).toBe(2)
    expect(sumOf(samples, 'http_request_duration_seconds_count', { status_code: (s) => s.startsWith('2') })).toBe(10)
    expect(sumBy(samples, 'process_cpu_seconds_total', ['worker'])).toEqual(new Map([['0', 12.5], ['1', 7.25]]))
    expect(histogramTotals(samples, 'http_request_duration_seconds', { route: '/health' })).toEqual({ count: 12, sum: 2.5 })
  })
})

describe('histograms', () => {
  it('merges the buckets of matching series and interpolates like histogram_quantile', () => {
    const samples = parsePrometheusText(TEXT)
    const buckets = bucketsOf(samples, 'http_request_duration_seconds', { route: '/health' })
    expect(buckets).toEqual([{ le: 0.1, count: 8 }, { le: 1, count: 12 }, { le: Number.POSITIVE_INFINITY, count: 12 }])
    // rank 6 of 12 lies in the first bucket: 0 + 0.1 x 6/8.
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.075, 10)
    // rank 11.4: 0.1 + 0.9 x (11.4 - 8) / 4.
    expect(histogramQuantile(0.95, buckets)).toBeCloseTo(0.865, 10)
  })

  it('answers the highest finite bound for the +Inf bucket and NaN without observations', () => {
    expect(histogramQuantile(0.99, [{ le: 1, count: 1 }, { le: Number.POSITIVE_INFINITY, count: 10 }])).toBe(1)
    expect(histogramQuantile(0.5, [{ le: 1, count: 0 }, { le: Number.POSITIVE_INFINITY, count: 0 }])).toBeNaN()
    expect(histogramQuantile(0.5, [])).toBeNaN()
  })
})

describe('deltaOf', () => {
  it('subtracts series by series, counts new series whole and reads a shrunk one as a reset', () => {
    const before = parsePrometheusText('c{worker="0"} 10\nc{worker="1"} 50\n')
    const after = parsePrometheusText('c{worker="0"} 14\nc{worker="1"} 3\nc{worker="2"} 2\n')
    expect(deltaOf(before, after).map((s) => s.value)).toEqual([4, 3, 2])
  })
})
